using Microsoft.Extensions.Caching.Memory;
using Resilience.Caching;

namespace Resilience.Caching.Tests.Contract;

/// <summary>Drives <see cref="CappedMemoryCache"/> only through <see cref="IMemoryCache"/> and its extension methods.</summary>
public sealed class MemoryCacheUnderTest : ICacheUnderTest
{
    private readonly CappedMemoryCache _adapter;
    private readonly IMemoryCache _cache;
    private readonly List<(string, CacheEvictionReason)> _evictions = [];

    public MemoryCacheUnderTest(int capacity, long? weightCap, TimeSpan timeToLive, bool sliding, TimeProvider time)
    {
        _adapter = new CappedMemoryCache(
            new CappedMemoryCacheOptions { Capacity = capacity, WeightCap = weightCap, TimeToLive = timeToLive, SlidingExpiration = sliding },
            time);
        _cache = _adapter;
    }

    public int Count => _adapter.Count;

    public long TotalWeight => _adapter.TotalWeight;

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

    public bool TryGet(string key, out string? value) => _cache.TryGetValue(key, out value);

    public void Set(string key, string value, long? weight = null, CacheEntryOptions? options = null)
    {
        if (weight is null && options is null)
        {
            // The extension-method path most call sites use.
            var entryOptions = new MemoryCacheEntryOptions().RegisterPostEvictionCallback(Record, _evictions);
            _cache.Set(key, value, entryOptions);
            return;
        }

        // The ICacheEntry path: filled in, then committed on Dispose.
        using var entry = _cache.CreateEntry(key);
        entry.Size = weight;
        if (options is not null)
        {
            entry.AbsoluteExpirationRelativeToNow = options.TimeToLive;
            entry.AbsoluteExpiration = options.AbsoluteExpiration;
            entry.SlidingExpiration = options.SlidingExpiration;
        }

        entry.RegisterPostEvictionCallback(Record, _evictions);
        entry.Value = value;
    }

    private static void Record(object key, object? value, EvictionReason reason, object? state)
    {
        var mapped = reason switch
        {
            EvictionReason.Capacity => CacheEvictionReason.Capacity,
            EvictionReason.Expired => CacheEvictionReason.Expired,
            EvictionReason.Replaced => CacheEvictionReason.Replaced,
            EvictionReason.Removed => CacheEvictionReason.Removed,
            _ => throw new InvalidOperationException($"unexpected reason {reason}"),
        };
        var list = (List<(string, CacheEvictionReason)>)state!;
        lock (list)
        {
            list.Add(((string)key, mapped));
        }
    }

    public void Remove(string key) => _cache.Remove(key);

    public int TrimExpired() => _adapter.TrimExpired();

    public string? CheckConsistency() => _adapter.Inner.CheckConsistency();

    public void Dispose() => _cache.Dispose();
}
