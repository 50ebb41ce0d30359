namespace Resilience.Scoring;

/// <summary>What one score event does to the projected score.</summary>
public enum ScoreChangeKind
{
    /// <summary>Adds <see cref="ScoreEvent.Value"/> (which may be negative) to the current score; a new score starts at 0.</summary>
    Add = 1,

    /// <summary>Replaces the current score with <see cref="ScoreEvent.Value"/>.</summary>
    Set = 2,
}
