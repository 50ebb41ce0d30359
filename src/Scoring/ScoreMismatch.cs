namespace Resilience.Scoring;

/// <summary>
/// A projection row that differs from the fold of the event log. <see langword="null"/> on one side means
/// the row exists only on the other side (a projection row without events, or events without a projection row).
/// </summary>
/// <param name="UserId">Whose score it is.</param>
/// <param name="Concept">Which score it is.</param>
/// <param name="ProjectedScore">The score in the projection table, or <see langword="null"/> when there is no row.</param>
/// <param name="ProjectedVersion">The version in the projection table, or <see langword="null"/> when there is no row.</param>
/// <param name="LogScore">The score the event log folds to, or <see langword="null"/> when the log has no events for it.</param>
/// <param name="LogVersion">The number of events in the log, or <see langword="null"/> when there are none.</param>
public sealed record ScoreMismatch(
    string UserId, string Concept, decimal? ProjectedScore, long? ProjectedVersion, decimal? LogScore, long? LogVersion);
