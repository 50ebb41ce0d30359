namespace Resilience.Scoring;

/// <summary>
/// An event carried an <see cref="ScoreEvent.ExpectedVersion"/> that no longer matches the projection.
/// Nothing was written (in a batch: nothing from the whole batch). Re-read the score and decide again.
/// </summary>
public sealed class ScoreVersionConflictException : ScoringException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="eventId">The event that expected another version.</param>
    /// <param name="userId">Whose score.</param>
    /// <param name="concept">Which score.</param>
    /// <param name="expectedVersion">The version the event expected.</param>
    /// <param name="actualVersion">The version found (0 when there was no score yet).</param>
    /// <param name="innerException">The server error that carried the conflict.</param>
    public ScoreVersionConflictException(string eventId, string userId, string concept, long expectedVersion, long actualVersion, Exception? innerException = null)
        : base(
            $"Score event '{eventId}' expected version {expectedVersion} of ({userId}, {concept}) but found version {actualVersion}; " +
            "nothing was written. Read the current score and apply again with its version (or without ExpectedVersion).",
            innerException)
    {
        EventId = eventId;
        UserId = userId;
        Concept = concept;
        ExpectedVersion = expectedVersion;
        ActualVersion = actualVersion;
    }

    /// <summary>The event that expected another version.</summary>
    public string EventId { get; }

    /// <summary>Whose score.</summary>
    public string UserId { get; }

    /// <summary>Which score.</summary>
    public string Concept { get; }

    /// <summary>The version the event expected.</summary>
    public long ExpectedVersion { get; }

    /// <summary>The version found; 0 when there was no score yet.</summary>
    public long ActualVersion { get; }
}
