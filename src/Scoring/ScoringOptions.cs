namespace Resilience.Scoring;

/// <summary>Settings of a <see cref="ScoreStore"/>. Validated once, when the store is created (with DI: at start).</summary>
public sealed class ScoringOptions
{
    /// <summary>The default <see cref="Schema"/>: <c>resilience_scoring</c>.</summary>
    public const string DefaultSchema = "resilience_scoring";

    /// <summary>The default <see cref="MinScore"/>: 0.</summary>
    public const double DefaultMinScore = 0;

    /// <summary>The default <see cref="MaxScore"/>: 1,000,000.</summary>
    public const double DefaultMaxScore = 1_000_000;

    /// <summary>The default <see cref="MaxIdLength"/>: 200 characters.</summary>
    public const int DefaultMaxIdLength = 200;

    /// <summary>The default <see cref="MaxBatchSize"/>: 1,000 events.</summary>
    public const int DefaultMaxBatchSize = 1_000;

    /// <summary>The default <see cref="MaxConcurrentApplyBatches"/>: 4 statements.</summary>
    public const int DefaultMaxConcurrentApplyBatches = 4;

    /// <summary>The largest magnitude accepted for <see cref="MinScore"/> and <see cref="MaxScore"/>: 1e15.</summary>
    public const double ScoreLimit = 1e15;

    /// <summary>
    /// The most significant digits a value, delta or bound may have: 15. Scores are stored exactly as the shortest decimal that
    /// reads back as the same <see cref="double"/>; a value that needs more digits is refused
    /// (<see cref="ScoreRejectionReason.TooPrecise"/>), never rounded.
    /// </summary>
    public const int MaxSignificantDigits = 15;

    /// <summary>
    /// The most digits after the decimal point a value, delta or bound may have: 12, so the smallest non-zero magnitude is 1e-12.
    /// A value that needs more (for example <see cref="double.Epsilon"/> or -1e-300) is refused
    /// (<see cref="ScoreRejectionReason.TooPrecise"/>), never stored as 0.
    /// </summary>
    public const int MaxDecimalPlaces = 12;

    /// <summary>
    /// The PostgreSQL schema that holds the package's tables and functions. Lower-case letters, digits and underscores,
    /// starting with a letter or underscore, at most 63 characters. Default <c>resilience_scoring</c>.
    /// </summary>
    public string Schema { get; set; } = DefaultSchema;

    /// <summary>The smallest score the projection may hold (a CHECK constraint in the schema). Default 0.</summary>
    public double MinScore { get; set; } = DefaultMinScore;

    /// <summary>The largest score the projection may hold (a CHECK constraint in the schema). Default 1,000,000.</summary>
    public double MaxScore { get; set; } = DefaultMaxScore;

    /// <summary>The longest event id, user id, concept or source accepted, in characters. Default 200.</summary>
    public int MaxIdLength { get; set; } = DefaultMaxIdLength;

    /// <summary>The most events one <see cref="ScoreStore.ApplyBatchAsync"/> call accepts. Default 1,000.</summary>
    public int MaxBatchSize { get; set; } = DefaultMaxBatchSize;

    /// <summary>
    /// When <see langword="true"/> (the default) the first call creates or migrates the schema
    /// (as <see cref="ScoreStore.EnsureSchemaAsync"/> does); set <see langword="false"/> when a deployment step owns migrations.
    /// </summary>
    public bool CreateSchemaOnFirstUse { get; set; } = true;

    /// <summary>
    /// When <see langword="true"/> (the default), concurrent <see cref="ScoreStore.ApplyAsync"/> calls share round trips:
    /// while <see cref="MaxConcurrentApplyBatches"/> apply statements are in flight, further events queue and the next free
    /// slot sends them as one batch (at most <see cref="MaxBatchSize"/>). A lone caller is sent at once (no timer). Every event
    /// still commits atomically with its projection change, and every caller gets its own result or exception: a shared
    /// statement that fails on one event rolls back and is sent again in halves until the failing event is applied on its own
    /// (about 2 log2(n) statements for one bad event among n), while a failure that is no
    /// event's doing (the connection, the server) is given to every caller of that statement and not replayed.
    /// Set <see langword="false"/> to give every call its own statement.
    /// </summary>
    public bool CombineApplies { get; set; } = true;

    /// <summary>
    /// With <see cref="CombineApplies"/>, the most apply statements of this store in flight at once (each holds one
    /// connection while it runs). Between 1 and 1,000; default 4. With 1, every apply of the store happens in call order;
    /// with more, calls in flight at the same time have no order between them (as without combining).
    /// </summary>
    public int MaxConcurrentApplyBatches { get; set; } = DefaultMaxConcurrentApplyBatches;
}
