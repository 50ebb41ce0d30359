namespace Resilience.Scoring;

/// <summary>One row of the projection: a user's current score for one concept.</summary>
/// <param name="UserId">Whose score it is.</param>
/// <param name="Concept">Which score it is.</param>
/// <param name="Score">The current score.</param>
/// <param name="Version">How many events have been folded into it.</param>
/// <param name="UpdatedAt">When the last event was recorded.</param>
public sealed record ScoreProjection(string UserId, string Concept, double Score, long Version, DateTimeOffset UpdatedAt);
