namespace Resilience.Pooling;

/// <summary>The connection limits a PostgreSQL server reports.</summary>
/// <param name="MaxConnections"><c>max_connections</c>.</param>
/// <param name="SuperuserReservedConnections"><c>superuser_reserved_connections</c>.</param>
/// <param name="ReservedConnections"><c>reserved_connections</c> (PostgreSQL 16+; 0 before).</param>
/// <param name="ServerVersionNum"><c>server_version_num</c>, e.g. 150010.</param>
public sealed record ServerLimits(int MaxConnections, int SuperuserReservedConnections, int ReservedConnections, int ServerVersionNum)
{
    /// <summary>Connections an ordinary role can open: <c>max_connections - superuser_reserved - reserved</c>.</summary>
    public int Admitted => MaxConnections - SuperuserReservedConnections - ReservedConnections;

    /// <summary>The query that reads the limits; works on PostgreSQL 15 and 16+ alike, and through PgBouncer.</summary>
    internal const string Query =
        "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int, " +
        "COALESCE(current_setting('reserved_connections', true), '0')::int, current_setting('server_version_num')::int";
}
