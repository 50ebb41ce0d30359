namespace Resilience.Caching.Internal;

/// <summary>Orders nodes by recency (<see cref="CacheNode{TKey, TValue}.Stamp"/>): the root is the least recently used.</summary>
internal readonly struct LruOrder<TKey, TValue> : IHeapOrder<TKey, TValue>
    where TKey : notnull
{
    public static ref HeapSlot Slot(CacheNode<TKey, TValue> node) => ref node.LruSlot;

    public static long Current(CacheNode<TKey, TValue> node) => Volatile.Read(ref node.Stamp);
}
