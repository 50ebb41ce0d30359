namespace Resilience.Scoring;

/// <summary>The projection right after one event was applied.</summary>
/// <param name="EventId">The event's id.</param>
/// <param name="UserId">Whose score it is.</param>
/// <param name="Concept">Which score it is.</param>
/// <param name="Score">The score after the event.</param>
/// <param name="Version">The projection version after the event (1 after the first event for this user and concept).</param>
/// <param name="IsDuplicate">
/// <see langword="true"/> when the event id had already been applied: nothing was written and
/// <paramref name="Score"/> and <paramref name="Version"/> are the first application's result.
/// </param>
public sealed record ScoreResult(string EventId, string UserId, string Concept, double Score, long Version, bool IsDuplicate);
