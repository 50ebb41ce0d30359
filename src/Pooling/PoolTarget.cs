namespace Resilience.Pooling;

/// <summary>What the pool's connection string points at.</summary>
public enum PoolTarget
{
    /// <summary>A PostgreSQL server, directly.</summary>
    PostgreSql = 0,

    /// <summary>
    /// PgBouncer in transaction pooling mode. The pool then sets <c>No Reset On Close</c> and turns automatic
    /// preparation off unless <see cref="PostgresPoolOptions.PgBouncerPreparedStatements"/> declares PgBouncer 1.21+
    /// with <c>max_prepared_statements</c> set.
    /// </summary>
    PgBouncerTransaction = 1,
}
