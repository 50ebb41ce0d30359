using System.Diagnostics.Metrics;
using Resilience.Caching;

namespace Resilience.Caching.Tests;

/// <summary>
/// Runs alone: a <c>MetricCollector</c> in another test class listens to every cache's instruments
/// and allocates on the recording thread, which would be counted here.
/// </summary>
[Collection(nameof(AllocationTests))]
public sealed class AllocationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_hit_allocates_nothing(bool listening)
    {
        using var cache = new LruCache<string, string>(new CacheOptions<string, string> { Capacity = 100, SlidingExpiration = true, Name = "allocation-test" });
        var keys = Enumerable.Range(0, 100).Select(i => $"user-{i}").ToArray();
        foreach (var key in keys)
        {
            cache.Set(key, key);
        }

        using var listener = new MeterListener();
        long hits = 0;
        if (listening)
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == CachingTelemetry.MeterName && instrument.Name == CachingTelemetry.Hits)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == CachingTelemetry.CacheNameTag && (string?)tag.Value == "allocation-test")
                    {
                        Interlocked.Add(ref hits, value);
                    }
                }
            });
            listener.Start();
        }

        var found = 0;
        for (var i = 0; i < 1000; i++)
        {
            found += cache.TryGetValue(keys[i % 100], out _) ? 1 : 0;
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            found += cache.TryGetValue(keys[i % 100], out _) ? 1 : 0;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(11_000, found);
        Assert.Equal(0, allocated);
        Assert.Equal(listening ? 11_000 : 0, Interlocked.Read(ref hits));
    }
}

[CollectionDefinition(nameof(AllocationTests), DisableParallelization = true)]
public sealed class AllocationTestsCollection;
