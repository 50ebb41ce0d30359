namespace Resilience.Caching.Internal;

/// <summary>
/// One entry. Immutable except for <see cref="Stamp"/> and <see cref="ExpiresAt"/>, which readers write without a lock,
/// and the heap slots, which only the writer (holding the write lock) touches.
/// </summary>
internal sealed class CacheNode<TKey, TValue>
    where TKey : notnull
{
    public readonly TKey Key;
    public readonly TValue Value;
    public readonly long Weight;

    /// <summary>Sliding window in timestamp ticks; 0 when the entry does not slide.</summary>
    public readonly long SlidingTicks;

    /// <summary>The latest the entry may live, in timestamp ticks; <see cref="long.MaxValue"/> when unbounded.</summary>
    public readonly long AbsoluteExpiresAt;

    /// <summary>Recency: a per-thread monotonic timestamp of the last read or the write.</summary>
    public long Stamp;

    /// <summary>The timestamp at which the entry expires (moves forward on hits when sliding).</summary>
    public long ExpiresAt;

    public HeapSlot LruSlot;
    public HeapSlot ExpirySlot;

    public CacheNode(TKey key, TValue value, long weight, long slidingTicks, long absoluteExpiresAt, long expiresAt)
    {
        Key = key;
        Value = value;
        Weight = weight;
        SlidingTicks = slidingTicks;
        AbsoluteExpiresAt = absoluteExpiresAt;
        ExpiresAt = expiresAt;
        LruSlot.Index = -1;
        ExpirySlot.Index = -1;
    }
}
