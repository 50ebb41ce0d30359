namespace Resilience.Scoring;

/// <summary>
/// Applying an event would have moved a score outside [<see cref="ScoringOptions.MinScore"/>, <see cref="ScoringOptions.MaxScore"/>]
/// (for example a negative delta on a score near the minimum). The database's CHECK constraint refused it; nothing was written.
/// </summary>
public sealed class ScoreBoundsExceededException : ScoringException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was refused.</param>
    /// <param name="eventId">The event, when known (a single apply); <see langword="null"/> for a batch.</param>
    /// <param name="innerException">The server error.</param>
    public ScoreBoundsExceededException(string message, string? eventId, Exception? innerException = null)
        : base(message, innerException)
    {
        EventId = eventId;
    }

    /// <summary>The event that would have left the range, when known.</summary>
    public string? EventId { get; }
}
