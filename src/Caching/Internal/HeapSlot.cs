namespace Resilience.Caching.Internal;

/// <summary>Where a node sits in one <see cref="NodeHeap{TKey, TValue, TOrder}"/> and the key it was ordered by.</summary>
internal struct HeapSlot
{
    public int Index;
    public long Key;
}
