namespace Resilience.Locks;

/// <summary>The hold-time watch at one moment: rolling percentiles of the hold durations in the window, and the alert state.</summary>
/// <param name="SampleCount">Hold durations in the window.</param>
/// <param name="P95">Rolling p95 hold time (nearest rank); zero when there are no samples.</param>
/// <param name="P99">Rolling p99 hold time (nearest rank); zero when there are no samples.</param>
/// <param name="Max">Longest hold in the window; zero when there are no samples.</param>
/// <param name="Threshold">The alert threshold (<see cref="RedisLockOptions.HoldTimeAlertThreshold"/>).</param>
/// <param name="IsAlerting">
/// <see langword="true"/> while <paramref name="P95"/> is above <paramref name="Threshold"/> and the window holds at least
/// <see cref="RedisLockOptions.HoldTimeAlertMinSamples"/> samples.
/// </param>
/// <param name="TakenAt">When the snapshot was taken, on the provider's <see cref="TimeProvider"/>.</param>
public readonly record struct HoldTimeSnapshot(
    int SampleCount,
    TimeSpan P95,
    TimeSpan P99,
    TimeSpan Max,
    TimeSpan Threshold,
    bool IsAlerting,
    DateTimeOffset TakenAt);
