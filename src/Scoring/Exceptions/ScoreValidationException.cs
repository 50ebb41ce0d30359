namespace Resilience.Scoring;

/// <summary>
/// An event was refused before any SQL ran: nothing was written. <see cref="Field"/> and <see cref="Reason"/> say what and why.
/// </summary>
public sealed class ScoreValidationException : ScoringException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="field">The offending field, for example <c>Value</c> or <c>UserId</c>.</param>
    /// <param name="reason">The rule it broke.</param>
    /// <param name="message">A sentence a person can act on.</param>
    /// <param name="eventId">The event's id when it had a usable one.</param>
    /// <param name="batchIndex">The event's position in a batch, or <see langword="null"/> for a single apply.</param>
    public ScoreValidationException(string field, ScoreRejectionReason reason, string message, string? eventId = null, int? batchIndex = null)
        : base(message)
    {
        Field = field;
        Reason = reason;
        EventId = eventId;
        BatchIndex = batchIndex;
    }

    /// <summary>The offending field, for example <c>Value</c>, <c>UserId</c> or <c>ExpectedVersion</c>.</summary>
    public string Field { get; }

    /// <summary>The rule the field broke.</summary>
    public ScoreRejectionReason Reason { get; }

    /// <summary>The event's id, when it had a usable one.</summary>
    public string? EventId { get; }

    /// <summary>The event's position in the batch, or <see langword="null"/> for a single apply.</summary>
    public int? BatchIndex { get; }
}
