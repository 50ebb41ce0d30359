namespace Resilience.Pooling;

/// <summary>Why a physical connection was retired (the <c>reason</c> tag of <c>resilience.pool.connection.recycled</c>).</summary>
public enum RecycleReason
{
    /// <summary>It reached <see cref="PostgresPoolOptions.MaxUses"/>.</summary>
    Uses,

    /// <summary>It outlived its jittered <see cref="PostgresPoolOptions.MaxLifetime"/>.</summary>
    Lifetime,

    /// <summary>It stayed idle longer than <see cref="PostgresPoolOptions.IdleTimeout"/>.</summary>
    Idle,

    /// <summary>It came back broken.</summary>
    Broken,
}
