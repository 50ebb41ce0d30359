namespace Resilience.Caching;

/// <summary>What <see cref="MemoryGrowthWatch"/> saw at its latest sample.</summary>
/// <param name="At">When the latest sample was taken.</param>
/// <param name="ResidentBytes">Resident memory at the latest sample.</param>
/// <param name="BaselineBytes">The lowest resident memory within the window (the growth is measured from it).</param>
/// <param name="GrowthBytes"><paramref name="ResidentBytes"/> minus <paramref name="BaselineBytes"/>.</param>
/// <param name="Covered">The time between the oldest and the latest sample in the window.</param>
/// <param name="Load">The load signal at the latest sample, if any.</param>
/// <param name="BaselineLoad">The load signal at the baseline sample, if any.</param>
/// <param name="SampleCount">Samples in the window.</param>
/// <param name="IsAlerting">Whether the growth is above the threshold without a proportional rise in load.</param>
public sealed record MemoryGrowthSnapshot(
    DateTimeOffset At,
    long ResidentBytes,
    long BaselineBytes,
    long GrowthBytes,
    TimeSpan Covered,
    double? Load,
    double? BaselineLoad,
    int SampleCount,
    bool IsAlerting)
{
    /// <summary>The snapshot before any sample.</summary>
    public static MemoryGrowthSnapshot Empty { get; } = new(DateTimeOffset.MinValue, 0, 0, 0, TimeSpan.Zero, null, null, 0, false);
}
