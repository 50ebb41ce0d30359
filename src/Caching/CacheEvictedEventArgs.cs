namespace Resilience.Caching;

/// <summary>Describes an entry that left the cache, raised through <see cref="LruCache{TKey, TValue}.Evicted"/>.</summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class CacheEvictedEventArgs<TKey, TValue> : EventArgs
    where TKey : notnull
{
    /// <summary>Creates the event data.</summary>
    /// <param name="key">The key of the entry that left.</param>
    /// <param name="value">The value it held.</param>
    /// <param name="weight">The weight it counted for.</param>
    /// <param name="reason">Why it left.</param>
    public CacheEvictedEventArgs(TKey key, TValue value, long weight, CacheEvictionReason reason)
    {
        Key = key;
        Value = value;
        Weight = weight;
        Reason = reason;
    }

    /// <summary>The key of the entry that left.</summary>
    public TKey Key { get; }

    /// <summary>The value it held. The cache no longer references it.</summary>
    public TValue Value { get; }

    /// <summary>The weight the entry counted for.</summary>
    public long Weight { get; }

    /// <summary>Why the entry left.</summary>
    public CacheEvictionReason Reason { get; }
}
