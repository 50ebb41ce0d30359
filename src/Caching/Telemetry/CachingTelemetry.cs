namespace Resilience.Caching;

/// <summary>Names of the meter, instruments and tags this package publishes.</summary>
public static class CachingTelemetry
{
    /// <summary>The one meter of the package: <c>Resilience.Caching</c>.</summary>
    public const string MeterName = "Resilience.Caching";

    /// <summary>Counter of lookups that found a live entry, unit <c>{lookup}</c>, tag <see cref="CacheNameTag"/>.</summary>
    public const string Hits = "resilience.cache.hits";

    /// <summary>Counter of lookups that found nothing (or an expired entry), unit <c>{lookup}</c>, tag <see cref="CacheNameTag"/>.</summary>
    public const string Misses = "resilience.cache.misses";

    /// <summary>Counter of entries that left the cache, unit <c>{entry}</c>, tags <see cref="CacheNameTag"/> and <see cref="ReasonTag"/>.</summary>
    public const string Evictions = "resilience.cache.evictions";

    /// <summary>Observable up-down counter of entries held, unit <c>{entry}</c>.</summary>
    public const string Entries = "resilience.cache.entries";

    /// <summary>Observable gauge of the entry cap, unit <c>{entry}</c>.</summary>
    public const string EntriesMax = "resilience.cache.entries.max";

    /// <summary>Observable up-down counter of the total weight held, unit <c>{weight}</c>.</summary>
    public const string Weight = "resilience.cache.weight";

    /// <summary>Observable gauge of the process resident memory seen by the last sample, unit <c>By</c> (OpenTelemetry <c>process.memory.usage</c>).</summary>
    public const string ProcessMemoryUsage = "process.memory.usage";

    /// <summary>Observable gauge of resident memory growth over the watch window, unit <c>By</c>.</summary>
    public const string MemoryGrowth = "resilience.memory.growth";

    /// <summary>Observable gauge that is 1 while the memory-growth alert is raised and 0 otherwise, unit <c>{alert}</c>.</summary>
    public const string MemoryAlert = "resilience.memory.alert";

    /// <summary>Tag naming the cache (or watch): its registration name.</summary>
    public const string CacheNameTag = "resilience.cache.name";

    /// <summary>Tag of <see cref="Evictions"/> with the <see cref="CacheEvictionReason"/> in lower case.</summary>
    public const string ReasonTag = "resilience.cache.eviction.reason";
}
