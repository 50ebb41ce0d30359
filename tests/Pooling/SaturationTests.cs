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
    public void Alert_fires_only_after_utilisation_stays_above_the_threshold_for_the_window()
    {
        var time = new FakeTimeProvider();
        var rule = new SaturationRule(0.70, TimeSpan.FromSeconds(60));
        Assert.False(rule.Observe(0.71, time.GetUtcNow()).IsAlerting);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(rule.Observe(0.90, time.GetUtcNow()).IsAlerting);
        time.Advance(TimeSpan.FromSeconds(1));
        var (alerting, since) = rule.Observe(0.75, time.GetUtcNow());
        Assert.True(alerting);
        Assert.Equal(time.GetUtcNow() - TimeSpan.FromSeconds(60), since);

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(rule.Observe(0.70, time.GetUtcNow()).IsAlerting); // at the threshold is not above it
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(rule.Observe(0.99, time.GetUtcNow()).IsAlerting); // the window starts again
    }

    [Property(MaxTest = 300)]
    public Property Alert_state_matches_a_reference_model(PositiveInt seed)
    {
        var gen = Gen.ListOf(
            from above in Gen.Elements(true, false)
            from gap in Gen.Choose(0, 40)
            select (above, gap));
        return Prop.ForAll(gen.ToArbitrary(), samples =>
        {
            var time = new FakeTimeProvider();
            var rule = new SaturationRule(0.7, TimeSpan.FromSeconds(60));
            DateTimeOffset? runStart = null;
            foreach (var (above, gap) in samples)
            {
                time.Advance(TimeSpan.FromSeconds(gap));
                var now = time.GetUtcNow();
                runStart = above ? runStart ?? now : null;
                var expected = runStart is { } s && now - s >= TimeSpan.FromSeconds(60);
                if (rule.Observe(above ? 0.7 + ((seed.Get % 30) / 100.0) + 0.001 : 0.7 - ((seed.Get % 70) / 100.0), now).IsAlerting != expected)
                {
                    return false;
                }
            }

            return true;
        });
    }

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
