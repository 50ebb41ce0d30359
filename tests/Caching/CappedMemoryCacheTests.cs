using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;
using Resilience.Caching;

namespace Resilience.Caching.Tests;

/// <summary>IMemoryCache specifics beyond the shared contract: GetOrCreate, tokens, and the difference from SizeLimit.</summary>
public sealed class CappedMemoryCacheTests
{
    [Fact]
    public void GetOrCreate_commits_on_dispose_and_then_hits()
    {
        IMemoryCache cache = new CappedMemoryCache(new CappedMemoryCacheOptions { Capacity = 2 }, new FakeTimeProvider());
        var calls = 0;

        var first = cache.GetOrCreate("k", entry =>
        {
            calls++;
            entry.SlidingExpiration = TimeSpan.FromMinutes(1);
            return "v";
        });
        var second = cache.GetOrCreate("k", _ =>
        {
            calls++;
            return "other";
        });

        Assert.Equal("v", first);
        Assert.Equal("v", second);
        Assert.Equal(1, calls);
    }

    [Fact]
    public void An_entry_without_a_value_is_not_committed()
    {
        var adapter = new CappedMemoryCache(new CappedMemoryCacheOptions { Capacity = 2 }, new FakeTimeProvider());
        IMemoryCache cache = adapter;
        Assert.Throws<InvalidOperationException>(() => cache.GetOrCreate<string>("k", _ => throw new InvalidOperationException()));
        Assert.Equal(0, adapter.Count);
        Assert.False(cache.TryGetValue("k", out _));
    }

    [Fact]
    public void The_newest_entry_is_admitted_when_full_unlike_MemoryCache_with_SizeLimit()
    {
        using var reference = new MemoryCache(new MemoryCacheOptions { SizeLimit = 2 });
        IMemoryCache capped = new CappedMemoryCache(new CappedMemoryCacheOptions { Capacity = 100, WeightCap = 2 }, new FakeTimeProvider());
        foreach (var cache in new IMemoryCache[] { reference, capped })
        {
            cache.Set("a", 1, new MemoryCacheEntryOptions { Size = 1 });
            cache.Set("b", 2, new MemoryCacheEntryOptions { Size = 1 });
            cache.Set("c", 3, new MemoryCacheEntryOptions { Size = 1 });
        }

        Assert.False(reference.TryGetValue("c", out _));
        Assert.True(capped.TryGetValue("c", out var newest));
        Assert.Equal(3, newest);
        Assert.False(capped.TryGetValue("a", out _));
    }

    [Fact]
    public void A_fired_expiration_token_removes_the_entry_with_reason_TokenExpired()
    {
        var adapter = new CappedMemoryCache(new CappedMemoryCacheOptions { Capacity = 10 }, new FakeTimeProvider());
        IMemoryCache cache = adapter;
        using var source = new CancellationTokenSource();
        EvictionReason? reason = null;
        var options = new MemoryCacheEntryOptions().AddExpirationToken(new CancellationChangeToken(source.Token));
        options.RegisterPostEvictionCallback((_, _, r, _) => reason = r);
        cache.Set("k", "v", options);
        Assert.True(cache.TryGetValue("k", out _));

        source.Cancel();

        Assert.False(cache.TryGetValue("k", out _));
        Assert.Equal(0, adapter.Count);
        Assert.Equal(EvictionReason.TokenExpired, reason);
    }

    [Fact]
    public void Invalid_entry_options_are_refused_like_MemoryCache()
    {
        IMemoryCache cache = new CappedMemoryCache(new CappedMemoryCacheOptions { Capacity = 10 }, new FakeTimeProvider());
        using var entry = cache.CreateEntry("k");
        Assert.Throws<ArgumentOutOfRangeException>(() => entry.AbsoluteExpirationRelativeToNow = TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => entry.SlidingExpiration = TimeSpan.FromSeconds(-1));
        Assert.Throws<ArgumentNullException>(() => cache.CreateEntry(null!));
    }

    [Fact]
    public void A_throwing_post_eviction_callback_does_not_break_the_cache()
    {
        var adapter = new CappedMemoryCache(new CappedMemoryCacheOptions { Capacity = 1 }, new FakeTimeProvider());
        IMemoryCache cache = adapter;
        cache.Set("a", 1, new MemoryCacheEntryOptions().RegisterPostEvictionCallback((_, _, _, _) => throw new InvalidOperationException("boom")));
        cache.Set("b", 2);

        Assert.True(cache.TryGetValue("b", out _));
        Assert.Equal(1, adapter.Count);
        Assert.Null(adapter.Inner.CheckConsistency());
    }
}
