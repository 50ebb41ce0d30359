namespace Resilience.Caching.Internal;

/// <summary>Chooses which slot and which live value of a node a <see cref="NodeHeap{TKey, TValue, TOrder}"/> orders by.</summary>
internal interface IHeapOrder<TKey, TValue>
    where TKey : notnull
{
    static abstract ref HeapSlot Slot(CacheNode<TKey, TValue> node);

    static abstract long Current(CacheNode<TKey, TValue> node);
}
