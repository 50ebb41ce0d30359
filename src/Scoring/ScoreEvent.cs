namespace Resilience.Scoring;

/// <summary>
/// One score change to append to the event log and fold into the projection.
/// No field is ever defaulted or substituted: a <see langword="null"/> <see cref="Value"/> is rejected, not treated as "keep the old score".
/// </summary>
/// <param name="EventId">Unique id of this change. Applying the same id again has no second effect and returns the first result.</param>
/// <param name="UserId">Whose score changes. Not empty.</param>
/// <param name="Concept">Which score of the user changes (a skill, a topic). Not empty.</param>
/// <param name="Kind">Whether <paramref name="Value"/> is added or replaces the score.</param>
/// <param name="Value">The delta (<see cref="ScoreChangeKind.Add"/>) or the new score (<see cref="ScoreChangeKind.Set"/>); finite, within the configured range, and stored exactly: at most <see cref="ScoringOptions.MaxSignificantDigits"/> significant digits and <see cref="ScoringOptions.MaxDecimalPlaces"/> decimal places, else refused as <see cref="ScoreRejectionReason.TooPrecise"/> (never rounded).</param>
public sealed record ScoreEvent(string EventId, string UserId, string Concept, ScoreChangeKind Kind, double? Value)
{
    /// <summary>When the change happened in the caller's world. <see langword="null"/> means "when it is recorded".</summary>
    public DateTimeOffset? OccurredAt { get; init; }

    /// <summary>Optional source or correlation id stored with the event (for example a submission id or a trace id).</summary>
    public string? Source { get; init; }

    /// <summary>
    /// Optional optimistic expectation: the projection version the caller last saw (0 when it expects no score yet).
    /// When the stored version differs, the apply throws <see cref="ScoreVersionConflictException"/> and writes nothing.
    /// </summary>
    public long? ExpectedVersion { get; init; }

    /// <summary>Creates an event that adds <paramref name="delta"/> to the score.</summary>
    /// <param name="eventId">Unique id of the change.</param>
    /// <param name="userId">Whose score changes.</param>
    /// <param name="concept">Which score changes.</param>
    /// <param name="delta">The amount to add; may be negative.</param>
    /// <returns>The event.</returns>
    public static ScoreEvent Add(string eventId, string userId, string concept, double? delta) =>
        new(eventId, userId, concept, ScoreChangeKind.Add, delta);

    /// <summary>Creates an event that sets the score to <paramref name="score"/>.</summary>
    /// <param name="eventId">Unique id of the change.</param>
    /// <param name="userId">Whose score changes.</param>
    /// <param name="concept">Which score changes.</param>
    /// <param name="score">The new score.</param>
    /// <returns>The event.</returns>
    public static ScoreEvent Set(string eventId, string userId, string concept, double? score) =>
        new(eventId, userId, concept, ScoreChangeKind.Set, score);
}
