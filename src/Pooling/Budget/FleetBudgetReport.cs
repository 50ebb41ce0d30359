namespace Resilience.Pooling;

/// <summary>The outcome of a fleet connection budget check, with the arithmetic spelled out.</summary>
public sealed record FleetBudgetReport
{
    /// <summary>Whether the fleet fits.</summary>
    public required bool Fits { get; init; }

    /// <summary>The server limits the check used.</summary>
    public required ServerLimits Server { get; init; }

    /// <summary>Client connections the whole fleet can open (to the server, or to PgBouncer).</summary>
    public required int FleetConnections { get; init; }

    /// <summary>Server connections the fleet can cause (equal to <see cref="FleetConnections"/> when direct), or <see langword="null"/> when it cannot be known.</summary>
    public required int? ServerConnectionDemand { get; init; }

    /// <summary>What the server admits minus the headroom.</summary>
    public required int Available { get; init; }

    /// <summary>The headroom that was kept free.</summary>
    public required int Headroom { get; init; }

    /// <summary>A sentence with every number, e.g. <c>4 boxes x 6 workers x 50 = 1200 &gt; 200 - 3 - 0 - 5 = 192</c>.</summary>
    public required string Arithmetic { get; init; }
}
