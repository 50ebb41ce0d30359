using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Resilience.Caching;

namespace Resilience.Caching.Tests;

public sealed class MemoryGrowthWatchTests
{
    private const long MiB = 1024 * 1024;

    private static MemoryGrowthWatch Create(FakeTimeProvider time, Func<double>? load = null, Func<long>? resident = null)
        => new(new MemoryWatchOptions { LoadSignal = load, Name = "watch-" + Guid.NewGuid() }, time, null, null, resident ?? (() => 800 * MiB));

    [Fact]
    public void Growth_above_500_MiB_in_5_minutes_without_load_data_raises_the_alert()
    {
        var time = new FakeTimeProvider();
        using var watch = Create(time);
        var changes = new List<bool>();
        watch.AlertChanged += (_, s) => changes.Add(s.IsAlerting);

        for (var i = 0; i <= 30; i++)
        {
            watch.AddSample((800 + (i * 20)) * MiB);
            time.Advance(TimeSpan.FromSeconds(10));
        }

        var snapshot = watch.Snapshot;
        Assert.True(snapshot.IsAlerting);
        Assert.Equal([true], changes);
        Assert.Equal(1400 * MiB, snapshot.ResidentBytes);
        Assert.Equal(TimeSpan.FromMinutes(5), snapshot.Covered);
        Assert.Equal(snapshot.ResidentBytes - snapshot.BaselineBytes, snapshot.GrowthBytes);
        Assert.InRange(snapshot.GrowthBytes, 500 * MiB + 1, 600 * MiB);
    }

    [Fact]
    public void The_same_growth_spread_over_more_than_the_window_does_not_fire()
    {
        var time = new FakeTimeProvider();
        using var watch = Create(time);

        // 600 MiB over 10 minutes: at most 300 MiB inside any 5-minute window.
        for (var i = 0; i <= 60; i++)
        {
            var snapshot = watch.AddSample((800 + (i * 10)) * MiB);
            Assert.False(snapshot.IsAlerting);
            time.Advance(TimeSpan.FromSeconds(10));
        }

        Assert.InRange(watch.Snapshot.GrowthBytes, 290 * MiB, 300 * MiB);
        Assert.Equal(31, watch.Snapshot.SampleCount);
    }

    [Fact]
    public void Growth_just_at_the_threshold_does_not_fire()
    {
        var time = new FakeTimeProvider();
        using var watch = Create(time);
        watch.AddSample(800 * MiB);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(watch.AddSample(1300 * MiB).IsAlerting);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(watch.AddSample((1300 * MiB) + 1).IsAlerting);
    }

    [Fact]
    public void Growth_with_a_proportional_rise_in_load_does_not_fire_but_growth_beyond_it_does()
    {
        var time = new FakeTimeProvider();
        using var watch = Create(time);

        // 600 -> 2,400 users (4x) while memory goes 800 MiB -> 2,000 MiB (2.5x): explained by load.
        watch.AddSample(800 * MiB, 600);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(watch.AddSample(2000 * MiB, 2400).IsAlerting);

        // Memory keeps growing to 6 GiB (7.7x) with the load flat at 4x: unexplained, alert.
        time.Advance(TimeSpan.FromMinutes(2));
        var snapshot = watch.AddSample(6144 * MiB, 2400);
        Assert.True(snapshot.IsAlerting);
        Assert.Equal(600, snapshot.BaselineLoad);
        Assert.Equal(2400, snapshot.Load);
    }

    [Fact]
    public void Growth_with_a_flat_load_fires_and_clears_when_memory_falls_back()
    {
        var time = new FakeTimeProvider();
        using var watch = Create(time);
        watch.AddSample(800 * MiB, 1000);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(watch.AddSample(1400 * MiB, 1000).IsAlerting);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(watch.AddSample(900 * MiB, 1000).IsAlerting);
    }

    [Fact]
    public void An_alert_clears_once_the_growth_leaves_the_window()
    {
        var time = new FakeTimeProvider();
        using var watch = Create(time);
        watch.AddSample(800 * MiB);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(watch.AddSample(1400 * MiB).IsAlerting);

        time.Advance(TimeSpan.FromMinutes(5));
        var snapshot = watch.AddSample(1400 * MiB);
        Assert.False(snapshot.IsAlerting);
        Assert.Equal(0, snapshot.GrowthBytes);
    }

    [Fact]
    public void The_timer_samples_on_the_time_provider_and_reads_the_load_signal()
    {
        var time = new FakeTimeProvider();
        var resident = 800 * MiB;
        var load = 100.0;
        using var watch = Create(time, () => load, () => resident);
        watch.Start();
        Assert.Equal(1, watch.Snapshot.SampleCount);

        for (var i = 0; i < 6; i++)
        {
            resident += 100 * MiB;
            time.Advance(TimeSpan.FromSeconds(10));
        }

        var snapshot = watch.Snapshot;
        Assert.Equal(7, snapshot.SampleCount);
        Assert.Equal(1400 * MiB, snapshot.ResidentBytes);
        Assert.Equal(100, snapshot.Load);
        Assert.True(snapshot.IsAlerting);

        watch.Stop();
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(7, watch.Snapshot.SampleCount);
    }

    [Fact]
    public void SampleNow_reads_the_process_resident_memory()
    {
        using var watch = new MemoryGrowthWatch(new MemoryWatchOptions(), new FakeTimeProvider());
        var snapshot = watch.SampleNow();
        Assert.True(snapshot.ResidentBytes > 1024 * 1024, $"resident {snapshot.ResidentBytes}");
        Assert.Equal(1, snapshot.SampleCount);
    }

    [Fact]
    public void Publishes_growth_and_alert_gauges()
    {
        var time = new FakeTimeProvider();
        using var watch = Create(time);
        using var growth = new MetricCollector<long>(null, CachingTelemetry.MeterName, CachingTelemetry.MemoryGrowth);
        using var alert = new MetricCollector<int>(null, CachingTelemetry.MeterName, CachingTelemetry.MemoryAlert);
        watch.AddSample(800 * MiB);
        time.Advance(TimeSpan.FromMinutes(1));
        watch.AddSample(1400 * MiB);

        growth.RecordObservableInstruments();
        alert.RecordObservableInstruments();

        Assert.Contains(growth.GetMeasurementSnapshot(), m => m.Value == 600 * MiB && (string?)m.Tags[CachingTelemetry.CacheNameTag] == watch.Name);
        Assert.Contains(alert.GetMeasurementSnapshot(), m => m.Value == 1 && (string?)m.Tags[CachingTelemetry.CacheNameTag] == watch.Name);
    }

    [Fact]
    public void Bad_samples_and_options_are_refused()
    {
        var time = new FakeTimeProvider();
        using var watch = Create(time);
        watch.AddSample(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => watch.AddSample(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => watch.AddSample(1, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => watch.AddSample(time.GetUtcNow().AddSeconds(-1), 1));

        var error = Assert.Throws<CacheOptionsException>(() => new MemoryGrowthWatch(new MemoryWatchOptions
        {
            Window = TimeSpan.Zero,
            GrowthThresholdBytes = 0,
            LoadTolerance = -1,
        }));
        Assert.Equal(4, error.Errors.Count);
        Assert.Contains(error.Errors, e => e.StartsWith("Window", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("SampleInterval", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("GrowthThresholdBytes", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("LoadTolerance", StringComparison.Ordinal));
    }
}
