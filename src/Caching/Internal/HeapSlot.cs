namespace Resilience.Caching.Internal;

/// <summary>Where a node sits in one <see cref="NodeHeap{TKey, TValue, TOrder}"/>; -1 when it is in none.</summary>
internal struct HeapSlot
{
    public int Index;
}
