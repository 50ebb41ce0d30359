namespace Resilience.Scoring;

/// <summary>
/// A store asked for a score range the schema cannot take: its CHECK constraints were built for another range (by another
/// store or an earlier deployment on the same <see cref="ScoringOptions.Schema"/>), and some current scores lie outside the
/// range this store asked for. The schema was left unchanged.
/// </summary>
public sealed class ScoreRangeConflictException : ScoringException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="schema">The shared schema.</param>
    /// <param name="schemaMinScore">The minimum the schema was built with, when recorded.</param>
    /// <param name="schemaMaxScore">The maximum the schema was built with, when recorded.</param>
    /// <param name="requestedMinScore">This store's <see cref="ScoringOptions.MinScore"/>.</param>
    /// <param name="requestedMaxScore">This store's <see cref="ScoringOptions.MaxScore"/>.</param>
    /// <param name="innerException">The server error.</param>
    public ScoreRangeConflictException(
        string schema, decimal? schemaMinScore, decimal? schemaMaxScore, decimal requestedMinScore, decimal requestedMaxScore, Exception? innerException = null)
        : base(
            $"Scoring schema '{schema}' has the score range [{Show(schemaMinScore)}, {Show(schemaMaxScore)}] (set by another store or an earlier " +
            $"deployment on this schema), but this store's ScoringOptions ask for [{requestedMinScore}, {requestedMaxScore}] and some current scores " +
            "lie outside it, so the schema was left unchanged. Use the same MinScore and MaxScore in every process that shares the schema, " +
            "give this store its own ScoringOptions.Schema, or bring those scores into the new range (apply events) first.",
            innerException)
    {
        Schema = schema;
        SchemaMinScore = schemaMinScore;
        SchemaMaxScore = schemaMaxScore;
        RequestedMinScore = requestedMinScore;
        RequestedMaxScore = requestedMaxScore;
    }

    /// <summary>The shared schema.</summary>
    public string Schema { get; }

    /// <summary>The minimum the schema's constraints were built with, or <see langword="null"/> when not recorded.</summary>
    public decimal? SchemaMinScore { get; }

    /// <summary>The maximum the schema's constraints were built with, or <see langword="null"/> when not recorded.</summary>
    public decimal? SchemaMaxScore { get; }

    /// <summary>The minimum this store asked for.</summary>
    public decimal RequestedMinScore { get; }

    /// <summary>The maximum this store asked for.</summary>
    public decimal RequestedMaxScore { get; }

    private static string Show(decimal? value) => value is { } v ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown";
}
