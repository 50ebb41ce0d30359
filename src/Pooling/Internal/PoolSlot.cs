using System.Data;
using Npgsql;

namespace Resilience.Pooling;

/// <summary>
/// One of the pool's <c>MaxSize</c> places for a physical connection. It owns a one-connection Npgsql data source
/// (<c>Max Pool Size=1</c>), so at most one physical connection can exist per slot, and a slot is leased to at most one
/// caller at a time. Fields marked "pool lock" change only under the pool's lock; the others belong to whoever holds the slot.
/// </summary>
internal sealed class PoolSlot
{
    public PoolSlot(PostgresPool pool, int index, NpgsqlDataSource dataSource)
    {
        Index = index;
        DataSource = dataSource;
        OnStateChange = (sender, e) => pool.OnLeaseStateChange(this, sender, e);
    }

    public int Index { get; }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>One cached handler per slot, so subscribing and unsubscribing allocate nothing.</summary>
    public StateChangeEventHandler OnStateChange { get; }

    /// <summary>Pool lock: leased (or being opened, retired, handed over) rather than idle.</summary>
    public bool Busy;

    /// <summary>Backend process id of the current physical connection; 0 when none is known to be open.</summary>
    public int BackendPid;

    /// <summary>When the current physical connection was first seen (pool timestamp).</summary>
    public long PhysicalSince;

    /// <summary>This physical connection's jittered lifetime.</summary>
    public TimeSpan Lifetime;

    /// <summary>Leases served by the current physical connection.</summary>
    public int Uses;

    /// <summary>When the slot last became idle (pool timestamp).</summary>
    public long IdleSince;

    /// <summary>The current lease's connection object; null while idle. Cleared exactly once, by compare-exchange.</summary>
    public NpgsqlConnection? Connection;

    /// <summary>When the current lease started (pool timestamp).</summary>
    public long RentedAt;

    /// <summary>Where the current lease was rented (a <see cref="RentSite"/> or a stack trace), when recorded.</summary>
    public object? RentSite;

    /// <summary>Pool lock: the current lease was already reported as a probable leak.</summary>
    public bool LeakReported;

    /// <summary>The current lease's connection broke.</summary>
    public volatile bool Broken;
}

/// <summary>Where a lease was rented, from caller information.</summary>
internal sealed record RentSite(string Member, string File, int Line)
{
    public override string ToString() => $"{Member} in {File}:line {Line}";
}
