namespace Resilience.Scoring;

/// <summary>
/// An event id that was already applied came back with a different user, concept, kind or value.
/// That is a caller bug (two changes sharing one id), so it is refused instead of silently returning the first result.
/// </summary>
public sealed class EventIdReusedException : ScoringException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="eventId">The reused id.</param>
    /// <param name="innerException">The server error.</param>
    public EventIdReusedException(string eventId, Exception? innerException = null)
        : base(
            $"Score event id '{eventId}' was already applied with a different user, concept, kind or value; nothing was written. " +
            "Give every distinct change its own event id.",
            innerException)
    {
        EventId = eventId;
    }

    /// <summary>The reused id.</summary>
    public string EventId { get; }
}
