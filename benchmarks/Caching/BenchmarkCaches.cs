using BitFaster.Caching.Lru;
using Microsoft.Extensions.Caching.Memory;

namespace Resilience.Caching.Benchmarks;

/// <summary>
/// Builds the caches the suites compare, configured the same way everywhere: a capacity of <c>capacity</c> entries, and
/// for <see cref="MemoryCache"/> a size limit with entries of size 1 that expire five minutes after they are written.
/// Every call creates a new instance, so a suite that builds caches inside a benchmark allocates exactly what it did before.
/// </summary>
internal static class BenchmarkCaches
{
    public static MemoryCache NewMemoryCache(int capacity) => new(new MemoryCacheOptions { SizeLimit = capacity });

    /// <summary>The entry options for <see cref="NewMemoryCache"/>: size 1, absolute expiry five minutes after the write.</summary>
    public static MemoryCacheEntryOptions NewSizedEntry() => new() { Size = 1, AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) };

    public static ConcurrentLru<TKey, TValue> NewConcurrentLru<TKey, TValue>(int capacity)
        where TKey : notnull => new(capacity);

    public static LruCache<TKey, TValue> NewLruCache<TKey, TValue>(int capacity)
        where TKey : notnull => new(new CacheOptions<TKey, TValue> { Capacity = capacity });
}
