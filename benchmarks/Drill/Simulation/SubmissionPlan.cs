namespace Resilience.Drill.Simulation;

/// <summary>Everything the dice decided for one submission before it starts, so a retry replays the same submission.</summary>
internal sealed record SubmissionPlan(
    Guid SubmissionId,
    DateTimeOffset CreatedAt,
    string Concept,
    float[] Embedding,
    TimeSpan AiLatency,
    bool AiThrows,
    TimeSpan? ForceQuitAfter,
    int Points,
    bool ScoreComesBackNull,
    int ImagePages)
{
    /// <summary>The score change this submission should make: the graded points plus the incident's "+1".</summary>
    public int TrueDelta => Points + 1;
}
