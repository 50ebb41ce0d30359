using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Resilience.Caching;

namespace Resilience.Caching.Tests;

public sealed class MetricsTests
{
    [Fact]
    public void Hits_misses_evictions_by_reason_entries_and_weight_are_published()
    {
        var name = "metrics-" + Guid.NewGuid();
        var time = new FakeTimeProvider();
        using var cache = new LruCache<string, string>(
            new CacheOptions<string, string> { Capacity = 2, WeightCap = 100, Weigher = static (_, v) => v.Length, Name = name },
            time);
        using var hits = new MetricCollector<long>(null, CachingTelemetry.MeterName, CachingTelemetry.Hits);
        using var misses = new MetricCollector<long>(null, CachingTelemetry.MeterName, CachingTelemetry.Misses);
        using var evictions = new MetricCollector<long>(null, CachingTelemetry.MeterName, CachingTelemetry.Evictions);
        using var entries = new MetricCollector<long>(null, CachingTelemetry.MeterName, CachingTelemetry.Entries);
        using var weight = new MetricCollector<long>(null, CachingTelemetry.MeterName, CachingTelemetry.Weight);

        cache.Set("a", "1");
        cache.Set("a", "22");
        cache.Set("b", "333");
        cache.Set("c", "4444");
        cache.TryGetValue("c", out _);
        cache.TryGetValue("a", out _);
        cache.Remove("b");

        bool Mine(CollectedMeasurement<long> m) => (string?)m.Tags[CachingTelemetry.CacheNameTag] == name;
        Assert.Equal(1, hits.GetMeasurementSnapshot().Where(Mine).Sum(m => m.Value));
        Assert.Equal(1, misses.GetMeasurementSnapshot().Where(Mine).Sum(m => m.Value));
        var reasons = evictions.GetMeasurementSnapshot().Where(Mine).Select(m => (string?)m.Tags[CachingTelemetry.ReasonTag]).Order().ToList();
        Assert.Equal(["capacity", "removed", "replaced"], reasons);

        entries.RecordObservableInstruments();
        weight.RecordObservableInstruments();
        Assert.Equal(1, entries.GetMeasurementSnapshot().Where(Mine).Last().Value);
        Assert.Equal(4, weight.GetMeasurementSnapshot().Where(Mine).Last().Value);
        Assert.Equal("{lookup}", hits.Instrument!.Unit);
    }

    [Fact]
    public void A_cache_dropped_without_dispose_is_still_collected()
    {
        var weak = CreateAndDrop();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(weak.IsAlive);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference CreateAndDrop()
    {
        var cache = new LruCache<string, byte[]>(new CacheOptions<string, byte[]> { Capacity = 10 });
        cache.Set("k", new byte[4096]);
        return new WeakReference(cache);
    }
}
