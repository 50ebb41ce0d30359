using Resilience.Caching;

namespace Resilience.Caching.Tests.Contract;

/// <summary>The behaviour both the cache and the IMemoryCache adapter must show, seen through one small surface.</summary>
public interface ICacheUnderTest : IDisposable
{
    int Count { get; }

    long TotalWeight { get; }

    /// <summary>Every eviction so far, in the order notified (adapter reasons mapped back; Weight shows as Capacity there).</summary>
    IReadOnlyList<(string Key, CacheEvictionReason Reason)> Evictions { get; }

    bool TryGet(string key, out string? value);

    void Set(string key, string value, long? weight = null, CacheEntryOptions? options = null);

    void Remove(string key);

    int TrimExpired();

    /// <summary>Null when the internal structures agree.</summary>
    string? CheckConsistency();
}
