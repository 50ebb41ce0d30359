using Microsoft.Extensions.Time.Testing;
using Resilience.TestSupport;

namespace Resilience.Locks.Tests;

public sealed class HoldTimeWatchTests(ServiceFixture services) : LockTestBase(services)
{
    [Fact]
    public void Default_threshold_is_15_seconds()
    {
        Assert.Equal(TimeSpan.FromSeconds(15), new RedisLockOptions().HoldTimeAlertThreshold);
        Assert.Equal(TimeSpan.FromSeconds(15), NewProvider().HoldTimes.Threshold);
    }

    [Fact]
    public async Task Alerts_while_the_rolling_p95_hold_time_is_above_the_threshold_and_clears_when_the_window_moves_on()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var alert = Collect("resilience.lock.hold.alert");
        var p95 = Collect("resilience.lock.hold.p95");
        var locks = NewProvider(o => o.HoldTimeWindow = TimeSpan.FromMinutes(5), time);

        async Task HoldAsync(double seconds)
        {
            await using var handle = await locks.AcquireAsync("user", "o");
            time.Advance(TimeSpan.FromSeconds(seconds));
        }

        // Normal load: 12 s holds.
        for (var i = 0; i < 20; i++)
        {
            await HoldAsync(12);
        }

        var calm = locks.HoldTimes.GetSnapshot();
        Assert.False(calm.IsAlerting);
        Assert.Equal(20, calm.SampleCount);
        Assert.Equal(TimeSpan.FromSeconds(12), calm.P95);

        // The spike: AI calls take 18-25 s.
        for (var i = 0; i < 20; i++)
        {
            await HoldAsync(18 + (i % 8));
        }

        var spike = locks.HoldTimes.GetSnapshot();
        Assert.True(spike.IsAlerting);
        Assert.True(locks.HoldTimes.IsAlerting);
        Assert.True(spike.P95 > TimeSpan.FromSeconds(15));
        Assert.Equal(TimeSpan.FromSeconds(25), spike.Max);
        Assert.Equal(time.GetUtcNow(), spike.TakenAt);
        alert.Observe();
        p95.Observe();
        Assert.Equal(1, alert.Measurements.Last().Value);
        Assert.Equal(spike.P95.TotalSeconds, p95.Measurements.Last().Value, 6);

        // Ten quiet minutes later the spike has left the window.
        time.Advance(TimeSpan.FromMinutes(10));
        await HoldAsync(5);
        var after = locks.HoldTimes.GetSnapshot();
        Assert.False(after.IsAlerting);
        Assert.Equal(1, after.SampleCount);
        alert.Observe();
        Assert.Equal(0, alert.Measurements.Last().Value);
    }

    [Fact]
    public async Task Needs_the_minimum_number_of_samples_before_alerting()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var locks = NewProvider(o => o.HoldTimeAlertMinSamples = 3, time);
        for (var i = 0; i < 2; i++)
        {
            await using var handle = await locks.AcquireAsync("r", "o");
            time.Advance(TimeSpan.FromSeconds(40));
        }

        Assert.False(locks.HoldTimes.GetSnapshot().IsAlerting);
        await using (var handle = await locks.AcquireAsync("r", "o"))
        {
            time.Advance(TimeSpan.FromSeconds(40));
        }

        Assert.True(locks.HoldTimes.GetSnapshot().IsAlerting);
    }

    [Fact]
    public void An_empty_watch_reports_zeros_and_no_alert()
    {
        var snapshot = NewProvider().HoldTimes.GetSnapshot();
        Assert.Equal(0, snapshot.SampleCount);
        Assert.Equal(TimeSpan.Zero, snapshot.P95);
        Assert.False(snapshot.IsAlerting);
    }
}
