using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Resilience.TestSupport;

namespace Resilience.Locks.Tests;

public sealed class AdaptiveTtlTests(ServiceFixture services) : LockTestBase(services)
{
    private static RedisLockOptions Adaptive() => new()
    {
        TtlMode = LockTtlMode.Adaptive,
        Ttl = TimeSpan.FromSeconds(30),
        TtlBuffer = TimeSpan.FromSeconds(6),
        MinTtl = TimeSpan.FromSeconds(5),
        MaxTtl = TimeSpan.FromSeconds(120),
        AdaptiveMinSamples = 20,
    };

    /// <summary>The reference rule: nearest-rank p99 + buffer, clamped; the starting TTL until enough samples.</summary>
    private static TimeSpan Expected(IReadOnlyList<double> seconds, RedisLockOptions o)
    {
        if (seconds.Count < o.AdaptiveMinSamples)
        {
            return o.Ttl;
        }

        var sorted = seconds.Order().ToArray();
        var p99 = sorted[(int)Math.Ceiling(0.99 * sorted.Length) - 1];
        var ttl = TimeSpan.FromSeconds(p99) + o.TtlBuffer;
        return ttl < o.MinTtl ? o.MinTtl : ttl > o.MaxTtl ? o.MaxTtl : ttl;
    }

    private static (HoldTimeWatch Watch, TtlPolicy Policy, FakeTimeProvider Time) Create(RedisLockOptions options)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var watch = new HoldTimeWatch("t", time, options, NullLogger.Instance);
        return (watch, new TtlPolicy(options, watch, time), time);
    }

    [Fact]
    public void Converges_to_p99_plus_buffer_on_the_incident_distribution()
    {
        // 12 s grading runs normally; under load 18-25 s. 200 holds: 150 at 12 s, 50 spread evenly over 18..25 s.
        var options = Adaptive();
        var (watch, policy, time) = Create(options);
        var samples = Enumerable.Repeat(12.0, 150).Concat(Enumerable.Range(0, 50).Select(i => 18 + (7.0 * i / 49))).ToList();

        Assert.Equal(TimeSpan.FromSeconds(30), policy.Current);
        for (var i = 0; i < samples.Count; i++)
        {
            watch.Record(TimeSpan.FromSeconds(samples[i]));
            if (i == 18)
            {
                time.Advance(TtlPolicy.RecomputeInterval);
                Assert.Equal(TimeSpan.FromSeconds(30), policy.Current); // 19 samples: still the starting TTL
            }
        }

        time.Advance(TtlPolicy.RecomputeInterval);
        var ttl = policy.Current;
        Assert.Equal(Expected(samples, options), ttl);
        // Nearest rank: the 198th of 200 sorted holds is the 48th of the tail, 18 + 7 * 47 / 49 s; plus the 6 s buffer.
        Assert.Equal(18 + (7.0 * 47 / 49) + 6, ttl.TotalSeconds, 6);
    }

    [Fact]
    public void Is_clamped_to_min_and_max()
    {
        var options = Adaptive();
        options.TtlBuffer = TimeSpan.FromSeconds(1);
        var (watch, policy, time) = Create(options);
        for (var i = 0; i < 30; i++)
        {
            watch.Record(TimeSpan.FromMilliseconds(10));
        }

        Assert.Equal(options.MinTtl, policy.Compute());
        for (var i = 0; i < 30; i++)
        {
            watch.Record(TimeSpan.FromMinutes(10));
        }

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(options.MaxTtl, policy.Compute());
    }

    [Fact]
    public void Old_holds_leave_the_window_and_the_ttl_returns_to_the_start_value()
    {
        var options = Adaptive();
        options.HoldTimeWindow = TimeSpan.FromMinutes(1);
        var (watch, policy, time) = Create(options);
        for (var i = 0; i < 40; i++)
        {
            watch.Record(TimeSpan.FromSeconds(20));
        }

        Assert.Equal(TimeSpan.FromSeconds(26), policy.Compute());
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(options.Ttl, policy.Compute());
    }

    [Property(MaxTest = 300)]
    public void Matches_the_reference_rule_for_any_hold_distribution(PositiveInt[] holdsMs, PositiveInt minSamples, PositiveInt bufferMs)
    {
        var options = Adaptive();
        options.AdaptiveMinSamples = 1 + (minSamples.Get % 50);
        options.TtlBuffer = TimeSpan.FromMilliseconds(bufferMs.Get % 20_000);
        var (watch, policy, _) = Create(options);
        var seconds = holdsMs.Take(options.HoldTimeWindowCapacity).Select(h => (h.Get % 600_000) / 1000.0).ToList();
        foreach (var s in seconds)
        {
            watch.Record(TimeSpan.FromSeconds(s));
        }

        var actual = policy.Compute();
        Assert.Equal(Expected(seconds, options).TotalMilliseconds, actual.TotalMilliseconds, 0.01);
        Assert.InRange(actual, options.MinTtl, options.MaxTtl);
    }

    [Fact]
    public async Task End_to_end_on_Redis_with_fake_time_leases_get_the_adaptive_ttl()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var locks = NewProvider(o =>
        {
            var a = Adaptive();
            o.TtlMode = a.TtlMode;
            o.Ttl = a.Ttl;
            o.AdaptiveMinSamples = a.AdaptiveMinSamples;
        }, time);
        var holds = new List<double>();
        for (var i = 0; i < 40; i++)
        {
            var hold = 10 + (i % 10);
            await using (var handle = await locks.AcquireAsync("r", "o"))
            {
                time.Advance(TimeSpan.FromSeconds(hold));
            }

            holds.Add(hold);
        }

        time.Advance(TimeSpan.FromSeconds(1));
        var expected = Expected(holds, Adaptive());
        Assert.Equal(TimeSpan.FromSeconds(25), expected);
        Assert.Equal(expected, locks.CurrentTtl);
        await using var next = await locks.AcquireAsync("r", "o");
        Assert.Equal(expected, next.Ttl);
        Assert.InRange((await locks.GetLockInfoAsync("r"))!.TimeToLive!.Value, TimeSpan.FromSeconds(20), expected);
    }
}
