using Npgsql;

namespace Resilience.Pooling;

/// <summary>Options of one <see cref="PostgresPool"/>. Validated once, when the pool is built (or at host start through DI).</summary>
public sealed class PostgresPoolOptions
{
    /// <summary>The largest <see cref="MaxSize"/> accepted without <see cref="AllowMaxSizeAbove10"/>.</summary>
    public const int MaxSizeWithoutOptIn = 10;

    /// <summary>
    /// The largest <see cref="MaxSize"/> accepted at all, even with <see cref="AllowMaxSizeAbove10"/>: 1,000. Each slot owns
    /// its own Npgsql data source, and no PostgreSQL server admits that many connections from one worker's pool in practice.
    /// </summary>
    public const int MaxSizeLimit = 1000;

    /// <summary>
    /// Npgsql connection string of the target (PostgreSQL or PgBouncer). Required. Pooling keywords in it
    /// (<c>Max Pool Size</c>, <c>Minimum Pool Size</c>) are replaced by the pool's own.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Pool name used in metric tags, messages and logs. Default: the DI name, or <c>"default"</c>.</summary>
    public string? Name { get; set; }

    /// <summary>
    /// Most physical connections open at once. Default 8; 1 to 10 without opt-in; above 10 requires
    /// <see cref="AllowMaxSizeAbove10"/>; never above <see cref="MaxSizeLimit"/> (1,000).
    /// </summary>
    public int MaxSize { get; set; } = 8;

    /// <summary>Opt-in for <see cref="MaxSize"/> above 10. Default <see langword="false"/>.</summary>
    public bool AllowMaxSizeAbove10 { get; set; }

    /// <summary>The longest a caller waits for a connection (queueing plus opening). Default 15 seconds.</summary>
    public TimeSpan AcquireTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Leases after which a physical connection is retired. Default 1,000.</summary>
    public int MaxUses { get; set; } = 1000;

    /// <summary>Age after which a physical connection is retired (when next idle). Default 30 minutes.</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Per-connection random spread of <see cref="MaxLifetime"/>, as a fraction (0 to 0.5): each physical connection lives
    /// <c>MaxLifetime x (1 - jitter .. 1)</c>, so connections opened together do not retire together. Default 0.2.
    /// </summary>
    public double MaxLifetimeJitter { get; set; } = 0.2;

    /// <summary>Idle time after which a physical connection is closed. Default 5 minutes.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often idle connections, lifetimes and leaks are checked. Default 1 second.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A lease held longer than this is reported once through <c>ILogger</c> as a probable leak. Default 30 seconds;
    /// <see langword="null"/> turns leak reports off.
    /// </summary>
    public TimeSpan? LeakThreshold { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Capture a stack trace on every <see cref="PostgresPool.OpenConnectionAsync(CancellationToken)"/> so a leak report shows
    /// where the connection was rented. Costs a stack walk per rent. <see cref="PostgresPool.RentAsync"/> records its caller
    /// (member, file, line) for free either way. Default <see langword="false"/>.
    /// </summary>
    public bool CaptureRentStackTrace { get; set; }

    /// <summary>What the connection string points at. Default <see cref="PoolTarget.PostgreSql"/>.</summary>
    public PoolTarget Target { get; set; } = PoolTarget.PostgreSql;

    /// <summary>
    /// With <see cref="PoolTarget.PgBouncerTransaction"/>: declares PgBouncer 1.21 or later with <c>max_prepared_statements</c>
    /// set, which makes automatic preparation safe. Default <see langword="false"/> (automatic preparation off).
    /// </summary>
    public bool PgBouncerPreparedStatements { get; set; }

    /// <summary>Register pgvector types (<c>UseVector()</c>). Default <see langword="true"/>.</summary>
    public bool UseVector { get; set; } = true;

    /// <summary>Extra configuration applied to each underlying Npgsql data source builder (type mappings, plugins).</summary>
    public Action<NpgsqlDataSourceBuilder>? ConfigureDataSource { get; set; }

    /// <summary>The fleet this pool is part of, for the connection budget check.</summary>
    public FleetBudgetOptions Fleet { get; set; } = new();

    /// <summary>The server saturation watch.</summary>
    public SaturationWatchOptions Saturation { get; set; } = new();
}
