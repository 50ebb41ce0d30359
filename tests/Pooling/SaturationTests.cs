using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Resilience.TestSupport;
using static Resilience.Pooling.Tests.PoolTestHelpers;

namespace Resilience.Pooling.Tests;

/// <summary>The saturation watch: the alert rule under fake time, and real samples of the server.</summary>
public sealed class SaturationTests(ServiceFixture services)
{
    [Fact]
    public void Alert_fires_when_the_mean_over_a_whole_window_is_above_the_threshold()
    {
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        var rule = new SaturationRule(0.70, TimeSpan.FromSeconds(60));
        Assert.Equal((false, start), rule.Observe(0.71, time.GetUtcNow())); // above, but not a whole window yet
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(rule.Observe(0.90, time.GetUtcNow()).IsAlerting);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal((true, start), rule.Observe(0.75, time.GetUtcNow()));

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(rule.Observe(0.60, time.GetUtcNow()).IsAlerting); // one dip: 0.90, 0.75, 0.60 still average 0.75
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal((false, null), rule.Observe(0.10, time.GetUtcNow())); // 0.90, 0.75, 0.60, 0.10 average 0.59
        Assert.False(rule.IsAlerting);
    }

    [Fact]
    public void A_starved_server_whose_count_swings_alerts_and_a_lone_spike_does_not()
    {
        // The drill's naive stack: refused clients make the count swing between ~55 % and ~92 % every second.
        var time = new FakeTimeProvider();
        var swinging = new SaturationRule(0.70, TimeSpan.FromSeconds(6));
        var fired = false;
        for (var second = 0; second <= 12; second++)
        {
            fired |= swinging.Observe(second % 2 == 0 ? 0.92 : 0.55, time.GetUtcNow()).IsAlerting;
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.True(fired);

        var calm = new SaturationRule(0.70, TimeSpan.FromSeconds(6));
        for (var second = 0; second <= 12; second++)
        {
            Assert.False(calm.Observe(second == 8 ? 1.0 : 0.20, time.GetUtcNow()).IsAlerting);
            time.Advance(TimeSpan.FromSeconds(1));
        }
    }

    [Fact]
    public void A_clock_step_back_starts_the_window_again()
    {
        var time = new FakeTimeProvider();
        var rule = new SaturationRule(0.70, TimeSpan.FromSeconds(60));
        var start = time.GetUtcNow();
        rule.Observe(0.95, start);
        Assert.True(rule.Observe(0.95, start.AddSeconds(60)).IsAlerting);
        Assert.Equal((false, start.AddSeconds(30)), rule.Observe(0.95, start.AddSeconds(30)));
        Assert.True(rule.Observe(0.95, start.AddSeconds(90)).IsAlerting);
    }

    private static readonly Gen<List<(double Utilization, int Gap)>> Samples = Gen.ListOf(
        from utilization in Gen.OneOf(Gen.Choose(0, 100).Select(p => p / 100.0), Gen.Elements(0.7, 0.69999, 0.70001))
        from gap in Gen.Choose(0, 40)
        select (utilization, gap)).Select(l => l.ToList());

    [Property(MaxTest = 500)]
    public Property Alert_state_matches_the_mean_over_the_window() =>
        Prop.ForAll(Samples.ToArbitrary(), samples =>
        {
            var window = TimeSpan.FromSeconds(60);
            var time = new FakeTimeProvider();
            var rule = new SaturationRule(0.7, window);
            var seen = new List<(DateTimeOffset At, double Utilization)>();
            foreach (var (utilization, gap) in samples)
            {
                time.Advance(TimeSpan.FromSeconds(gap));
                var now = time.GetUtcNow();
                seen.Add((now, utilization));
                var inWindow = seen.Where(s => s.At >= now - window).Select(s => s.Utilization).ToList();
                var expected = now - seen[0].At >= window && inWindow.Sum() / inWindow.Count > 0.7;
                Assert.Equal(expected, rule.Observe(utilization, now).IsAlerting);
            }
        });

    [Property(MaxTest = 500)]
    public Property Whenever_every_sample_of_a_whole_window_is_above_the_threshold_the_alert_fires() =>
        Prop.ForAll(Samples.ToArbitrary(), samples =>
        {
            // The stricter rule (every sample above for the whole window) is a special case: it can never fire alone.
            var window = TimeSpan.FromSeconds(60);
            var time = new FakeTimeProvider();
            var rule = new SaturationRule(0.7, window);
            DateTimeOffset? runStart = null;
            foreach (var (utilization, gap) in samples)
            {
                time.Advance(TimeSpan.FromSeconds(gap));
                var now = time.GetUtcNow();
                runStart = utilization > 0.7 ? runStart ?? now : null;
                var alerting = rule.Observe(utilization, now).IsAlerting;
                if (runStart is { } since && now - since >= window)
                {
                    Assert.True(alerting, $"every sample since {since} was above 0.7");
                }
            }
        });

    [Fact]
    public async Task Sampling_on_demand_reads_the_real_server()
    {
        var facts = await services.PostgresFactsAsync();
        var time = new FakeTimeProvider();
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("sat"), o => o.MaxSize = 1), timeProvider: time);
        var reading = await pool.Saturation.SampleAsync(TestContext.Current.CancellationToken);
        Assert.Equal(facts.MaxConnections, reading.MaxConnections);
        Assert.InRange(reading.ServerConnections, 1, facts.MaxConnections);
        Assert.Equal((double)reading.ServerConnections / reading.MaxConnections, reading.Utilization, 9);
        Assert.Equal(time.GetUtcNow(), reading.SampledAt);
        Assert.Same(reading, pool.Saturation.LastReading);
    }

    [Fact]
    public async Task The_timer_samples_when_enabled()
    {
        var time = new FakeTimeProvider();
        await using var pool = new PostgresPool(
            Options(await services.PgBouncerAsync(), UniqueAppName("sattimer"), o =>
            {
                o.MaxSize = 1;
                o.Target = PoolTarget.PgBouncerTransaction;
                o.Saturation.Enabled = true;
                o.Saturation.SampleInterval = TimeSpan.FromSeconds(5);
            }),
            timeProvider: time);
        Assert.Null(pool.Saturation.LastReading);
        time.Advance(TimeSpan.FromSeconds(5));
        var ct = TestContext.Current.CancellationToken;
        var patience = System.Diagnostics.Stopwatch.StartNew();
        while (pool.Saturation.LastReading is null && patience.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10, ct);
        }

        Assert.NotNull(pool.Saturation.LastReading);

        Assert.True(pool.Saturation.LastReading.MaxConnections > 0);
    }
}
