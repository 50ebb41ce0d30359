using Microsoft.Extensions.Time.Testing;
using Resilience.Caching;

namespace Resilience.Caching.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void No_capacity_is_refused_there_is_no_unbounded_default()
    {
        var error = Assert.Throws<CacheOptionsException>(() => new LruCache<string, string>(new CacheOptions<string, string>()));
        var message = Assert.Single(error.Errors);
        Assert.StartsWith("Capacity must be at least 1", message, StringComparison.Ordinal);
        Assert.StartsWith("CacheOptions is invalid (1 problem(s)): Capacity must be at least 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_listed_at_once()
    {
        var error = Assert.Throws<CacheOptionsException>(() => new LruCache<string, string>(new CacheOptions<string, string>
        {
            Capacity = -1,
            WeightCap = 0,
            TimeToLive = TimeSpan.Zero,
        }));

        Assert.Equal(4, error.Errors.Count);
        Assert.Contains(error.Errors, e => e.StartsWith("Capacity", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("WeightCap must be positive", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("TimeToLive", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("WeightCap is set but no weigher", StringComparison.Ordinal));
        Assert.Equal(typeof(CacheOptions<string, string>), error.OptionsType);
        Assert.IsAssignableFrom<CacheException>(error);
    }

    [Fact]
    public void The_IMemoryCache_adapter_validates_the_same_way()
    {
        var error = Assert.Throws<CacheOptionsException>(() => new CappedMemoryCache(new CappedMemoryCacheOptions { Capacity = 0, TimeToLive = TimeSpan.FromSeconds(-1) }));
        Assert.Equal(2, error.Errors.Count);
    }

    [Fact]
    public void Per_entry_expirations_must_be_positive()
    {
        using var cache = new LruCache<string, string>(new CacheOptions<string, string> { Capacity = 2 }, new FakeTimeProvider());
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Set("k", "v", new CacheEntryOptions { TimeToLive = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Set("k", "v", new CacheEntryOptions { SlidingExpiration = TimeSpan.FromTicks(-1) }));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void A_throwing_weigher_changes_nothing()
    {
        using var cache = new LruCache<string, string>(
            new CacheOptions<string, string> { Capacity = 2, WeightCap = 10, Weigher = (_, v) => v == "bad" ? throw new FormatException() : 1 },
            new FakeTimeProvider());
        cache.Set("k", "good");
        Assert.Throws<FormatException>(() => cache.Set("k", "bad"));
        Assert.True(cache.TryGetValue("k", out var value));
        Assert.Equal("good", value);
    }

    [Fact]
    public void Defaults_are_five_minutes_and_no_weight_cap()
    {
        var options = new CacheOptions<string, string> { Capacity = 1 };
        Assert.Equal(TimeSpan.FromMinutes(5), options.TimeToLive);
        Assert.Null(options.WeightCap);
        Assert.False(options.SlidingExpiration);
        Assert.Empty(options.Validate());
    }
}
