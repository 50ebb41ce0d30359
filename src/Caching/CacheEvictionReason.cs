namespace Resilience.Caching;

/// <summary>Why an entry left an <see cref="LruCache{TKey, TValue}"/>.</summary>
public enum CacheEvictionReason
{
    /// <summary>The entry count reached <see cref="CacheOptions.Capacity"/> and this was the least recently used entry.</summary>
    Capacity = 1,

    /// <summary>The total weight would have exceeded <see cref="CacheOptions.WeightCap"/> and this was the least recently used entry.</summary>
    Weight = 2,

    /// <summary>The entry's time to live (absolute or sliding) had passed.</summary>
    Expired = 3,

    /// <summary>The entry was removed explicitly (<see cref="LruCache{TKey, TValue}.Remove(TKey)"/>, <see cref="LruCache{TKey, TValue}.Clear"/>).</summary>
    Removed = 4,

    /// <summary>A newer value was written under the same key.</summary>
    Replaced = 5,
}
