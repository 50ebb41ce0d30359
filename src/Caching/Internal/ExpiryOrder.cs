namespace Resilience.Caching.Internal;

/// <summary>Orders nodes by <see cref="CacheNode{TKey, TValue}.ExpiresAt"/>: the root expires first.</summary>
internal readonly struct ExpiryOrder<TKey, TValue> : IHeapOrder<TKey, TValue>
    where TKey : notnull
{
    public static ref HeapSlot Slot(CacheNode<TKey, TValue> node) => ref node.ExpirySlot;

    public static long Current(CacheNode<TKey, TValue> node) => Volatile.Read(ref node.ExpiresAt);
}
