namespace Resilience.Caching.Internal;

/// <summary>
/// An indexed binary min-heap of nodes, used only under the cache's write lock. Readers move a node's live value
/// (<see cref="IHeapOrder{TKey, TValue}.Current"/>) forward without the lock; the heap keeps the value it last saw in the
/// node's slot and lets <see cref="PeekFresh"/> re-key a stale root lazily. Because live values only grow, a root whose
/// stored key equals its live value is the true minimum.
/// </summary>
internal sealed class NodeHeap<TKey, TValue, TOrder>
    where TKey : notnull
    where TOrder : struct, IHeapOrder<TKey, TValue>
{
    private CacheNode<TKey, TValue>?[] _items = new CacheNode<TKey, TValue>?[16];
    private int _count;

    public int Count => _count;

    public void Push(CacheNode<TKey, TValue> node)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        ref var slot = ref TOrder.Slot(node);
        slot.Key = TOrder.Current(node);
        slot.Index = _count;
        _items[_count] = node;
        _count++;
        SiftUp(slot.Index);
    }

    public void Remove(CacheNode<TKey, TValue> node)
    {
        ref var slot = ref TOrder.Slot(node);
        var index = slot.Index;
        if (index < 0)
        {
            return;
        }

        slot.Index = -1;
        var last = --_count;
        if (index == last)
        {
            _items[last] = null;
            return;
        }

        var moved = _items[last]!;
        _items[last] = null;
        _items[index] = moved;
        TOrder.Slot(moved).Index = index;
        SiftDown(index);
        SiftUp(TOrder.Slot(moved).Index);
    }

    /// <summary>
    /// Returns the node with the smallest live value, re-keying stale roots on the way. <paramref name="budget"/> bounds
    /// the re-keying so readers racing ahead cannot keep a writer busy; when it runs out the current root is returned.
    /// </summary>
    public CacheNode<TKey, TValue>? PeekFresh(int budget)
    {
        while (_count > 0)
        {
            var root = _items[0]!;
            ref var slot = ref TOrder.Slot(root);
            var current = TOrder.Current(root);
            if (current == slot.Key || budget-- <= 0)
            {
                return root;
            }

            slot.Key = current;
            SiftDown(0);
            SiftUp(TOrder.Slot(root).Index);
        }

        return null;
    }

    public void Clear()
    {
        Array.Clear(_items, 0, _count);
        _count = 0;
    }

    private void SiftUp(int index)
    {
        var node = _items[index]!;
        var key = TOrder.Slot(node).Key;
        while (index > 0)
        {
            var parentIndex = (index - 1) >> 1;
            var parent = _items[parentIndex]!;
            if (TOrder.Slot(parent).Key <= key)
            {
                break;
            }

            _items[index] = parent;
            TOrder.Slot(parent).Index = index;
            index = parentIndex;
        }

        _items[index] = node;
        TOrder.Slot(node).Index = index;
    }

    private void SiftDown(int index)
    {
        var node = _items[index]!;
        var key = TOrder.Slot(node).Key;
        while (true)
        {
            var child = (index << 1) + 1;
            if (child >= _count)
            {
                break;
            }

            var right = child + 1;
            if (right < _count && TOrder.Slot(_items[right]!).Key < TOrder.Slot(_items[child]!).Key)
            {
                child = right;
            }

            var childNode = _items[child]!;
            if (TOrder.Slot(childNode).Key >= key)
            {
                break;
            }

            _items[index] = childNode;
            TOrder.Slot(childNode).Index = index;
            index = child;
        }

        _items[index] = node;
        TOrder.Slot(node).Index = index;
    }
}
