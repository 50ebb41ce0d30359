using Microsoft.Extensions.Time.Testing;
using Resilience.Caching;

namespace Resilience.Caching.Tests.Contract;

/// <summary>A value and the weight the cache's weigher reads from it.</summary>
public sealed record Weighted(string Value, long Weight);

public sealed class LruCacheUnderTest : ICacheUnderTest
{
    private readonly List<(string, CacheEvictionReason)> _evictions = [];

    public LruCacheUnderTest(int capacity, long? weightCap, TimeSpan timeToLive, bool sliding, TimeProvider time)
    {
        Cache = new LruCache<string, Weighted>(
            new CacheOptions<string, Weighted>
            {
                Capacity = capacity,
                WeightCap = weightCap,
                TimeToLive = timeToLive,
                SlidingExpiration = sliding,
                Weigher = static (_, value) => value.Weight,
            },
            time);
        Cache.Evicted += (_, e) =>
        {
            lock (_evictions)
            {
                _evictions.Add((e.Key, e.Reason));
            }
        };
    }

    public LruCache<string, Weighted> Cache { get; }

    public int Count => Cache.Count;

    public long TotalWeight => Cache.TotalWeight;

    public IReadOnlyList<(string Key, CacheEvictionReason Reason)> Evictions
    {
        get
        {
            lock (_evictions)
            {
                return [.. _evictions];
            }
        }
    }

    public bool TryGet(string key, out string? value)
    {
        var found = Cache.TryGetValue(key, out var weighted);
        value = weighted?.Value;
        return found;
    }

    public void Set(string key, string value, long? weight = null, CacheEntryOptions? options = null)
        => Cache.Set(key, new Weighted(value, weight ?? 1), options);

    public void Remove(string key) => Cache.Remove(key);

    public int TrimExpired() => Cache.TrimExpired();

    public string? CheckConsistency() => Cache.CheckConsistency();

    public void Dispose() => Cache.Dispose();
}
