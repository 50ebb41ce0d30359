namespace Resilience.Scoring;

/// <summary>Which part of the projection a rebuild or verify covers. Both filters set means "these users' scores for these concepts".</summary>
public sealed record ScoreScope
{
    /// <summary>Everyone and every concept.</summary>
    public static ScoreScope All { get; } = new();

    /// <summary>Only these users, or <see langword="null"/> for every user.</summary>
    public IReadOnlyCollection<string>? UserIds { get; init; }

    /// <summary>Only these concepts, or <see langword="null"/> for every concept.</summary>
    public IReadOnlyCollection<string>? Concepts { get; init; }

    /// <summary>A scope of some users, every concept.</summary>
    /// <param name="userIds">The users.</param>
    /// <returns>The scope.</returns>
    public static ScoreScope ForUsers(params IReadOnlyCollection<string> userIds) => new() { UserIds = userIds };

    /// <summary>A scope of some concepts, every user.</summary>
    /// <param name="concepts">The concepts.</param>
    /// <returns>The scope.</returns>
    public static ScoreScope ForConcepts(params IReadOnlyCollection<string> concepts) => new() { Concepts = concepts };
}
