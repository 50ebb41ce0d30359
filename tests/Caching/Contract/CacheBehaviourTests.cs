using System.Runtime.CompilerServices;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Resilience.Caching;

namespace Resilience.Caching.Tests.Contract;

/// <summary>
/// One set of behaviour tests, run against <see cref="LruCache{TKey, TValue}"/> directly and against
/// <see cref="CappedMemoryCache"/> through <c>IMemoryCache</c>.
/// </summary>
public abstract class CacheBehaviourTests
{
    protected static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    protected abstract ICacheUnderTest Create(int capacity, long? weightCap, TimeSpan timeToLive, bool sliding, TimeProvider time);

    /// <summary>How the implementation reports a reason (the adapter folds Weight into Capacity, as MemoryCache has no such reason).</summary>
    protected virtual CacheEvictionReason Reported(CacheEvictionReason reason) => reason;

    private ICacheUnderTest Create(int capacity, FakeTimeProvider time, long? weightCap = null, bool sliding = false)
        => Create(capacity, weightCap, Ttl, sliding, time);

    [Fact]
    public void Cap_200_insert_201_keeps_the_newest_and_200_entries_and_keeps_working()
    {
        using var cache = Create(200, new FakeTimeProvider());
        for (var i = 0; i < 201; i++)
        {
            cache.Set($"user-{i}", $"prompt-{i}");
        }

        Assert.True(cache.TryGet("user-200", out var newest));
        Assert.Equal("prompt-200", newest);
        Assert.Equal(200, cache.Count);
        Assert.False(cache.TryGet("user-0", out _));
        Assert.Equal([("user-0", Reported(CacheEvictionReason.Capacity))], cache.Evictions);

        for (var i = 201; i < 1000; i++)
        {
            cache.Set($"user-{i}", $"prompt-{i}");
            Assert.True(cache.TryGet($"user-{i}", out var value));
            Assert.Equal($"prompt-{i}", value);
            Assert.Equal(200, cache.Count);
        }

        Assert.Null(cache.CheckConsistency());
    }

    [Fact]
    public void Evicts_the_least_recently_used_entry()
    {
        using var cache = Create(3, new FakeTimeProvider());
        cache.Set("a", "1");
        cache.Set("b", "2");
        cache.Set("c", "3");
        Assert.True(cache.TryGet("a", out _));

        cache.Set("d", "4");

        Assert.False(cache.TryGet("b", out _));
        Assert.True(cache.TryGet("a", out _));
        Assert.True(cache.TryGet("c", out _));
        Assert.True(cache.TryGet("d", out _));
        Assert.Equal([("b", Reported(CacheEvictionReason.Capacity))], cache.Evictions);
    }

    [Fact]
    public void Replacing_a_key_reports_replaced_and_keeps_one_entry()
    {
        using var cache = Create(3, new FakeTimeProvider());
        cache.Set("a", "old");
        cache.Set("a", "new");

        Assert.True(cache.TryGet("a", out var value));
        Assert.Equal("new", value);
        Assert.Equal(1, cache.Count);
        Assert.Equal([("a", Reported(CacheEvictionReason.Replaced))], cache.Evictions);
    }

    [Fact]
    public void Remove_reports_removed()
    {
        using var cache = Create(3, new FakeTimeProvider());
        cache.Set("a", "1");
        cache.Remove("a");
        cache.Remove("missing");

        Assert.False(cache.TryGet("a", out _));
        Assert.Equal(0, cache.Count);
        Assert.Equal([("a", Reported(CacheEvictionReason.Removed))], cache.Evictions);
    }

    [Fact]
    public void An_entry_expires_after_the_time_to_live_and_is_never_returned_afterwards()
    {
        var time = new FakeTimeProvider();
        using var cache = Create(10, time);
        cache.Set("a", "1");

        time.Advance(Ttl - TimeSpan.FromTicks(1));
        Assert.True(cache.TryGet("a", out _));
        time.Advance(TimeSpan.FromTicks(1));
        Assert.False(cache.TryGet("a", out _));
        Assert.False(cache.TryGet("a", out _));

        Assert.Equal(1, cache.TrimExpired());
        Assert.Equal(0, cache.Count);
        Assert.Equal([("a", Reported(CacheEvictionReason.Expired))], cache.Evictions);
    }

    [Fact]
    public void Writes_purge_expired_entries()
    {
        var time = new FakeTimeProvider();
        using var cache = Create(10, time);
        cache.Set("a", "1");
        cache.Set("b", "2");
        time.Advance(Ttl);

        cache.Set("c", "3");

        Assert.Equal(1, cache.Count);
        Assert.Equal(
            [("a", Reported(CacheEvictionReason.Expired)), ("b", Reported(CacheEvictionReason.Expired))],
            cache.Evictions.OrderBy(e => e.Key));
    }

    [Fact]
    public void Sliding_expiration_renews_on_every_hit()
    {
        var time = new FakeTimeProvider();
        using var cache = Create(10, time, sliding: true);
        cache.Set("a", "1");
        for (var i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromMinutes(4));
            Assert.True(cache.TryGet("a", out _));
        }

        time.Advance(Ttl);
        Assert.False(cache.TryGet("a", out _));
    }

    [Fact]
    public void Per_entry_relative_absolute_and_sliding_expiration()
    {
        var time = new FakeTimeProvider();
        using var cache = Create(10, time);
        cache.Set("relative", "1", options: new CacheEntryOptions { TimeToLive = TimeSpan.FromMinutes(1) });
        cache.Set("absolute", "2", options: new CacheEntryOptions { AbsoluteExpiration = time.GetUtcNow().AddMinutes(2) });
        cache.Set("sliding", "3", options: new CacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });
        cache.Set("both", "4", options: new CacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1), TimeToLive = TimeSpan.FromMinutes(3) });

        time.Advance(TimeSpan.FromSeconds(50));
        Assert.True(cache.TryGet("sliding", out _));
        Assert.True(cache.TryGet("both", out _));
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.False(cache.TryGet("relative", out _));
        Assert.True(cache.TryGet("absolute", out _));
        Assert.True(cache.TryGet("sliding", out _));
        Assert.True(cache.TryGet("both", out _));
        time.Advance(TimeSpan.FromSeconds(50));
        Assert.False(cache.TryGet("absolute", out _));
        Assert.True(cache.TryGet("sliding", out _));
        Assert.True(cache.TryGet("both", out _));
        time.Advance(TimeSpan.FromSeconds(50));
        Assert.True(cache.TryGet("both", out _));
        Assert.True(cache.TryGet("sliding", out _));
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(cache.TryGet("sliding", out _));
        Assert.False(cache.TryGet("both", out _));
    }

    [Fact]
    public void An_absolute_expiration_in_the_past_stores_nothing()
    {
        var time = new FakeTimeProvider();
        using var cache = Create(10, time);
        cache.Set("a", "1", options: new CacheEntryOptions { AbsoluteExpiration = time.GetUtcNow().AddSeconds(-1) });

        Assert.False(cache.TryGet("a", out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void The_weight_cap_evicts_least_recently_used_entries_until_the_new_one_fits()
    {
        using var cache = Create(100, new FakeTimeProvider(), weightCap: 10);
        cache.Set("a", "1", weight: 4);
        cache.Set("b", "2", weight: 4);
        Assert.True(cache.TryGet("a", out _));

        cache.Set("c", "3", weight: 4);

        Assert.Equal(8, cache.TotalWeight);
        Assert.False(cache.TryGet("b", out _));
        Assert.Equal([("b", Reported(CacheEvictionReason.Weight))], cache.Evictions);

        cache.Set("d", "4", weight: 10);
        Assert.Equal(10, cache.TotalWeight);
        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGet("d", out _));
    }

    [Fact]
    public void An_entry_heavier_than_the_whole_cap_is_refused_and_changes_nothing()
    {
        using var cache = Create(100, new FakeTimeProvider(), weightCap: 10);
        cache.Set("a", "1", weight: 6);
        cache.Set("b", "2", weight: 4);

        var error = Assert.Throws<EntryTooHeavyException>(() => cache.Set("a", "huge", weight: 11));

        Assert.Equal(11, error.Weight);
        Assert.Equal(10, error.WeightCap);
        Assert.Contains("WeightCap", error.Message, StringComparison.Ordinal);
        Assert.True(cache.TryGet("a", out var value));
        Assert.Equal("1", value);
        Assert.Equal(10, cache.TotalWeight);
        Assert.Empty(cache.Evictions);
    }

    [Fact]
    public void A_negative_weight_is_refused_and_changes_nothing()
    {
        using var cache = Create(100, new FakeTimeProvider(), weightCap: 10);
        cache.Set("a", "1", weight: 3);

        var error = Assert.Throws<InvalidWeightException>(() => cache.Set("a", "2", weight: -1));

        Assert.Equal(-1, error.Weight);
        Assert.True(cache.TryGet("a", out var value));
        Assert.Equal("1", value);
        Assert.Empty(cache.Evictions);
    }

    [Fact]
    public void Null_keys_are_refused()
    {
        using var cache = Create(10, new FakeTimeProvider());
        Assert.Throws<ArgumentNullException>(() => cache.Set(null!, "1"));
        Assert.Throws<ArgumentNullException>(() => cache.TryGet(null!, out _));
        Assert.Throws<ArgumentNullException>(() => cache.Remove(null!));
    }

    [Fact]
    public void Nothing_keeps_an_expired_value_reachable_after_it_is_purged()
    {
        var time = new FakeTimeProvider();
        using var cache = Create(10, time);
        var weak = SetUnreachableValue(cache, "a");
        cache.Set("b", "kept");
        time.Advance(Ttl);
        cache.TrimExpired();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(weak.IsAlive);
    }

    [Fact]
    public void Nothing_keeps_an_evicted_value_reachable()
    {
        using var cache = Create(2, new FakeTimeProvider());
        var weak = SetUnreachableValue(cache, "a");
        cache.Set("b", "2");
        cache.Set("c", "3");

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(weak.IsAlive);
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public async Task Soak_eight_writers_never_exceed_the_caps_and_end_consistent()
    {
        const int capacity = 64;
        const long weightCap = 200;
        using var cache = Create(capacity, weightCap, TimeSpan.FromHours(1), false, TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var samples = 0L;
        var violations = new List<string>();

        var observer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var count = cache.Count;
                var weight = cache.TotalWeight;
                if (count > capacity || weight > weightCap || count < 0 || weight < 0)
                {
                    lock (violations)
                    {
                        violations.Add($"count {count}, weight {weight}");
                    }
                }

                samples++;
            }
        }, TestContext.Current.CancellationToken);

        var workers = Enumerable.Range(0, 8).Select(seed => Task.Run(() =>
        {
            var random = new Random(seed);
            for (var i = 0; i < 40_000; i++)
            {
                var key = $"k{random.Next(256)}";
                var op = random.Next(10);
                if (op < 5)
                {
                    if (cache.TryGet(key, out var value) && !value!.StartsWith(key + "=", StringComparison.Ordinal))
                    {
                        lock (violations)
                        {
                            violations.Add($"{key} returned {value}");
                        }
                    }
                }
                else if (op < 9)
                {
                    cache.Set(key, $"{key}={i}", weight: random.Next(0, 12));
                }
                else
                {
                    cache.Remove(key);
                }
            }
        }, TestContext.Current.CancellationToken)).ToArray();

        await Task.WhenAll(workers);
        await stop.CancelAsync();
        await observer;

        Assert.Empty(violations);
        Assert.True(samples > 0);
        Assert.Null(cache.CheckConsistency());
        Assert.InRange(cache.Count, 1, capacity);
        Assert.InRange(cache.TotalWeight, 0, weightCap);
    }

    [Property(MaxTest = 300)]
    public void Matches_a_reference_LRU_on_one_thread(PositiveInt capacitySeed, bool useWeight, bool sliding, (byte Op, byte Key, byte Arg)[] operations)
    {
        var capacity = (capacitySeed.Get % 6) + 1;
        long? weightCap = useWeight ? 10 : null;
        var time = new FakeTimeProvider();
        using var cache = Create(capacity, weightCap, Ttl, sliding, time);
        var model = new ReferenceLru(capacity, weightCap, Ttl.Ticks, sliding);
        var start = time.GetUtcNow();

        foreach (var (op, keyByte, arg) in operations ?? [])
        {
            var key = $"k{keyByte % 8}";
            var seen = cache.Evictions.Count;
            List<(string, CacheEvictionReason)> expected = [];
            switch (op % 10)
            {
                case < 4:
                    var hit = cache.TryGet(key, out var value);
                    var modelHit = model.TryGet(key, out var modelValue);
                    Assert.Equal(modelHit, hit);
                    Assert.Equal(modelValue, value);
                    break;
                case < 7:
                    var weight = useWeight ? (long)(arg % 13) : 1;
                    var newValue = $"{key}:{arg}";
                    var modelEvictions = model.Set(key, newValue, weight);
                    if (modelEvictions is null)
                    {
                        Assert.Throws<EntryTooHeavyException>(() => cache.Set(key, newValue, weight));
                    }
                    else
                    {
                        cache.Set(key, newValue, weight);
                        expected = modelEvictions;
                    }

                    break;
                case 7:
                    cache.Remove(key);
                    expected = model.Remove(key);
                    break;
                case 8:
                    time.Advance(TimeSpan.FromSeconds(arg * 4));
                    model.Now = (time.GetUtcNow() - start).Ticks;
                    break;
                default:
                    Assert.Equal(model.Purge().Count, cache.TrimExpired());
                    break;
            }

            var actual = cache.Evictions.Skip(seen).ToList();
            if (op % 10 == 9)
            {
                Assert.All(actual, e => Assert.Equal(Reported(CacheEvictionReason.Expired), e.Reason));
            }
            else
            {
                Assert.Equal(
                    expected.Select(e => (e.Item1, Reported(e.Item2))).OrderBy(e => e.Item1).ThenBy(e => e.Item2),
                    actual.OrderBy(e => e.Key).ThenBy(e => e.Reason));
            }

            Assert.Equal(model.Count, cache.Count);
            Assert.Equal(useWeight ? model.TotalWeight : model.Count, cache.TotalWeight);
        }

        Assert.Null(cache.CheckConsistency());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SetUnreachableValue(ICacheUnderTest cache, string key)
    {
        var value = new string('x', 1000);
        cache.Set(key, value);
        return new WeakReference(value);
    }
}

public sealed class LruCacheBehaviourTests : CacheBehaviourTests
{
    protected override ICacheUnderTest Create(int capacity, long? weightCap, TimeSpan timeToLive, bool sliding, TimeProvider time)
        => new LruCacheUnderTest(capacity, weightCap, timeToLive, sliding, time);
}

public sealed class MemoryCacheAdapterBehaviourTests : CacheBehaviourTests
{
    protected override ICacheUnderTest Create(int capacity, long? weightCap, TimeSpan timeToLive, bool sliding, TimeProvider time)
        => new MemoryCacheUnderTest(capacity, weightCap, timeToLive, sliding, time);

    protected override CacheEvictionReason Reported(CacheEvictionReason reason)
        => reason == CacheEvictionReason.Weight ? CacheEvictionReason.Capacity : reason;
}
