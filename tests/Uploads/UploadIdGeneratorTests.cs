using System.Collections.Concurrent;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Resilience.Uploads.Tests.Support;

namespace Resilience.Uploads.Tests;

public sealed class UploadIdGeneratorTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_764_780_000_000);

    [Fact]
    public void Frozen_clock_gives_strictly_increasing_ids_in_one_millisecond()
    {
        var time = new FakeTimeProvider(Start);
        var ids = new UploadIdGenerator(time);
        var previous = ids.Next();
        for (var i = 0; i < 200_000; i++)
        {
            var next = ids.Next();
            Assert.True(next > previous, $"id {i} did not increase");
            Assert.True(string.CompareOrdinal(next.ToString(), previous.ToString()) > 0);
            previous = next;
        }

        // 200,000 increments of at most 2^32 cannot overflow 74 bits unless the first draw was in the top 2^-26 of the range.
        Assert.InRange(previous.UnixTimeMilliseconds, Start.ToUnixTimeMilliseconds(), Start.ToUnixTimeMilliseconds() + 1);
    }

    [Fact]
    public void New_millisecond_takes_the_clock_time()
    {
        var time = new FakeTimeProvider(Start);
        var ids = new UploadIdGenerator(time);
        Assert.Equal(Start.ToUnixTimeMilliseconds(), ids.Next().UnixTimeMilliseconds);
        time.Advance(TimeSpan.FromMilliseconds(5));
        Assert.Equal(Start.ToUnixTimeMilliseconds() + 5, ids.Next().UnixTimeMilliseconds);
        Assert.Equal(Start, new UploadIdGenerator(new FakeTimeProvider(Start)).Next().Timestamp);
    }

    [Property(MaxTest = 200)]
    public Property Ids_stay_strictly_increasing_whatever_the_clock_does() =>
        Prop.ForAll(
            Gen.OneOf(Gen.Choose(-5_000, 5_000), Gen.Choose(-1, 1), Gen.Constant(0), Gen.Choose(-int.MaxValue, 0))
                .ArrayOf().ToArbitrary(),
            steps =>
            {
                var clock = new SteppingClock(Start.ToUnixTimeMilliseconds());
                var ids = new UploadIdGenerator(clock);
                var previous = ids.Next();
                var highestClock = clock.UnixMilliseconds;
                foreach (var step in steps)
                {
                    clock.UnixMilliseconds += step;
                    var next = ids.Next();
                    Assert.True(next > previous);
                    // Never behind the clock when the clock is in range, and never behind the latest time seen.
                    highestClock = Math.Max(highestClock, clock.UnixMilliseconds);
                    Assert.True(next.UnixTimeMilliseconds >= Math.Max(0, Math.Min(clock.UnixMilliseconds, UploadId.MaxUnixTimeMilliseconds)));
                    Assert.True(next.UnixTimeMilliseconds >= highestClock);
                    previous = next;
                }
            });

    [Fact]
    public void Each_step_back_of_the_clock_is_logged_once()
    {
        var clock = new SteppingClock(Start.ToUnixTimeMilliseconds());
        var logger = new FakeLogger<UploadIdGenerator>();
        var ids = new UploadIdGenerator(clock, logger);
        var first = ids.Next();
        clock.UnixMilliseconds -= 1_500;
        var second = ids.Next();
        var third = ids.Next();
        Assert.True(first < second && second < third);
        Assert.Equal(first.UnixTimeMilliseconds, third.UnixTimeMilliseconds);
        var record = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Contains("stepped back by 1500 ms", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_generators_on_the_same_frozen_millisecond_do_not_overlap()
    {
        // Two processes' generators: no shared state, same clock reading; 74 random bits keep them apart.
        var a = new UploadIdGenerator(new FakeTimeProvider(Start));
        var b = new UploadIdGenerator(new FakeTimeProvider(Start));
        var seen = new HashSet<UploadId>();
        for (var i = 0; i < 100_000; i++)
        {
            Assert.True(seen.Add(a.Next()));
            Assert.True(seen.Add(b.Next()));
        }
    }

    [Fact]
    public void Clock_before_1970_is_clamped_and_order_kept()
    {
        var clock = new SteppingClock(-10_000);
        var ids = new UploadIdGenerator(clock);
        var a = ids.Next();
        var b = ids.Next();
        Assert.Equal(0, a.UnixTimeMilliseconds);
        Assert.True(b > a);
    }

    [Fact]
    public void A_million_ids_on_all_cores_with_a_frozen_clock_are_distinct_and_increase_per_thread()
    {
        var ids = new UploadIdGenerator(new FakeTimeProvider(Start));
        var all = RunConcurrently(ids, 1_048_576);
        Assert.Equal(all.Length, all.Distinct().Count());
    }

    [Fact]
    public void Ids_on_all_cores_with_a_clock_that_jumps_backwards_are_distinct_and_increase_per_thread()
    {
        var start = Start.ToUnixTimeMilliseconds();
        // Every read moves the clock; every 1,000th read jumps back a full minute, then time walks forward again.
        var clock = new SteppingClock(start) { OnRead = reads => start + (reads % 1_000) - (reads / 1_000 % 2 * 60_000) };
        var ids = new UploadIdGenerator(clock);
        var all = RunConcurrently(ids, 400_000);
        Assert.Equal(all.Length, all.Distinct().Count());
        Assert.True(clock.Reads >= 400_000);
    }

    [Property(MaxTest = 20)]
    public Property Concurrent_bursts_are_distinct_for_any_thread_count() =>
        Prop.ForAll(Gen.Choose(2, 16).ToArbitrary(), Gen.Choose(1, 5_000).ToArbitrary(), (threads, perThread) =>
        {
            var ids = new UploadIdGenerator(new FakeTimeProvider(Start));
            var bag = new ConcurrentBag<UploadId>();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
            {
                var previous = default(UploadId);
                for (var i = 0; i < perThread; i++)
                {
                    var id = ids.Next();
                    Assert.True(id > previous);
                    previous = id;
                    bag.Add(id);
                }
            });
            Assert.Equal(threads * perThread, bag.Distinct().Count());
        });

    /// <summary>Generates <paramref name="total"/> ids on every core; asserts each thread saw them strictly increase.</summary>
    private static UploadId[] RunConcurrently(UploadIdGenerator ids, int total)
    {
        var threads = Math.Max(2, Environment.ProcessorCount);
        var perThread = total / threads;
        var results = new UploadId[threads][];
        var failures = 0;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var mine = new UploadId[perThread];
            for (var i = 0; i < perThread; i++)
            {
                mine[i] = ids.Next();
                if (i > 0 && mine[i] <= mine[i - 1])
                {
                    Interlocked.Increment(ref failures);
                }
            }

            results[t] = mine;
        });
        Assert.Equal(0, failures);
        return [.. results.SelectMany(r => r)];
    }
}
