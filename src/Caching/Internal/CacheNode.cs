namespace Resilience.Caching.Internal;

/// <summary>
/// One entry. Immutable except for <see cref="Stamp"/> and <see cref="ExpiresAt"/>, which readers write without a lock,
/// and the chain link, the queue flag and the id, which only the writer (holding the write lock) touches.
/// </summary>
internal sealed class CacheNode<TKey, TValue>
    where TKey : notnull
{
    public readonly TKey Key;
    public readonly TValue Value;
    public readonly long Weight;

    /// <summary>The key's hash code, computed once before the write lock.</summary>
    public readonly int Hash;

    /// <summary>Sliding window in timestamp ticks; 0 when the entry does not slide.</summary>
    public readonly long SlidingTicks;

    /// <summary>The latest the entry may live, in timestamp ticks; <see cref="long.MaxValue"/> when unbounded.</summary>
    public readonly long AbsoluteExpiresAt;

    /// <summary>Recency: a per-thread monotonic timestamp of the last read or the write.</summary>
    public long Stamp;

    /// <summary>The timestamp at which the entry expires (moves forward on hits when sliding).</summary>
    public long ExpiresAt;

    /// <summary>The next node in the same <see cref="NodeTable{TKey, TValue}"/> bucket; readers follow it without a lock.</summary>
    public CacheNode<TKey, TValue>? Next;

    /// <summary>Whether the node is in the expiry queue (otherwise in the expiry heap, when it is in the cache at all).</summary>
    public bool InExpiryQueue;

    /// <summary>The node's id in the cache's id table and heaps while it is in the cache; -1 otherwise.</summary>
    public int Id;

    public CacheNode(TKey key, int hash, TValue value, long weight, long slidingTicks, long absoluteExpiresAt, long expiresAt)
    {
        Key = key;
        Hash = hash;
        Value = value;
        Weight = weight;
        SlidingTicks = slidingTicks;
        AbsoluteExpiresAt = absoluteExpiresAt;
        ExpiresAt = expiresAt;
        Id = -1;
    }
}
