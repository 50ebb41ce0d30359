using Resilience.Drill.Measurement;

namespace Resilience.Drill.Reporting;

/// <summary>One sample of the three alert signals.</summary>
internal sealed record SignalSample(
    double ElapsedSeconds,
    int ServerConnections,
    int MaxConnections,
    double Utilisation,
    bool SaturationAlert,
    double MemoryMegabytes,
    double MemoryGrowthMegabytes,
    bool MemoryAlert,
    double LockHoldP95Seconds,
    bool LockHoldAlert,
    int? ClientConnections);

/// <summary>One end-of-run check.</summary>
internal sealed record InvariantResult(string Name, bool Held, string Detail);

/// <summary>Whether an alert signal fired during the run, and its worst value.</summary>
internal sealed record AlertSummary(string Signal, bool Fired, string Worst, string Threshold);

/// <summary>The outcome of one mode.</summary>
internal sealed record ModeReport(
    string Mode,
    double DurationSeconds,
    long Submissions,
    long Completed,
    IReadOnlyDictionary<string, long> Failures,
    IReadOnlyDictionary<string, long> Counters,
    IReadOnlyDictionary<string, Percentiles> Stages,
    IReadOnlyList<SignalSample> Signals,
    IReadOnlyList<AlertSummary> Alerts,
    IReadOnlyList<InvariantResult> Invariants,
    IReadOnlyList<string> SampleErrors)
{
    public bool AllInvariantsHeld => Invariants.All(i => i.Held);
}

/// <summary>The whole drill: settings, environment and each mode's outcome.</summary>
internal sealed record DrillReport(
    DateTimeOffset StartedAt,
    string Command,
    IReadOnlyDictionary<string, string> Settings,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<ModeReport> Modes)
{
    /// <summary>
    /// The drill gates an upgrade on the resilient mode only; the naive mode is expected to fail. Null when the resilient
    /// mode was not run (<c>--mode naive</c>): then nothing was checked, so nothing is said to have held.
    /// </summary>
    public bool? ResilientHeld => Modes.FirstOrDefault(m => m.Mode == "resilient") is { } resilient ? resilient.AllInvariantsHeld : null;
}
