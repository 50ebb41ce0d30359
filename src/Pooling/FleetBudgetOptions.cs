namespace Resilience.Pooling;

/// <summary>
/// Describes the whole fleet that shares one PostgreSQL server, so the pool can refuse to start when the fleet could open
/// more connections than the server admits. Either <see cref="Boxes"/> and <see cref="WorkersPerBox"/> (each worker runs one
/// pool of <see cref="PostgresPoolOptions.MaxSize"/>) or an explicit <see cref="TotalConnections"/>.
/// </summary>
public sealed class FleetBudgetOptions
{
    /// <summary>Number of machines (boxes, pods) running the service. Default <see langword="null"/> (not described).</summary>
    public int? Boxes { get; set; }

    /// <summary>Worker processes per box, each with its own pool. Default <see langword="null"/> (not described).</summary>
    public int? WorkersPerBox { get; set; }

    /// <summary>
    /// The fleet's total connections, when known directly; overrides boxes x workers x MaxSize.
    /// Default <see langword="null"/>.
    /// </summary>
    public int? TotalConnections { get; set; }

    /// <summary>
    /// Connections kept free for everything that is not this fleet (migrations, psql, monitoring, other services).
    /// Default 5.
    /// </summary>
    public int Headroom { get; set; } = 5;

    /// <summary>
    /// Whether the DI host runs the budget check at start (and refuses to start when it fails). Only applies when the fleet
    /// is described. Default <see langword="true"/>.
    /// </summary>
    public bool CheckOnStart { get; set; } = true;

    /// <summary>
    /// Through PgBouncer: PgBouncer's <c>max_client_conn</c> summed over the PgBouncer instances the fleet uses. PgBouncer's
    /// admin console cannot be read through Npgsql, so declare it here to have the fleet's client connections checked
    /// against it. Default <see langword="null"/> (not checked).
    /// </summary>
    public int? PgBouncerMaxClientConnections { get; set; }

    /// <summary>
    /// Through PgBouncer: the most server connections all PgBouncer instances can open to the server (the sum of
    /// <c>max_db_connections</c>, or of the pool sizes). When set, this number, not the fleet's client connections, is checked
    /// against the server's limits. Default <see langword="null"/>.
    /// </summary>
    public int? PgBouncerServerConnections { get; set; }

    /// <summary>Whether any fleet size is described.</summary>
    internal bool IsDescribed => TotalConnections is not null || Boxes is not null || WorkersPerBox is not null;
}
