namespace Resilience.Caching.Internal;

/// <summary>
/// An indexed 4-ary min-heap of nodes, used only under the cache's write lock. Keys are stored inline next to the node
/// reference so sifting compares contiguous memory instead of chasing node pointers. Readers move a node's live value
/// (<see cref="IHeapOrder{TKey, TValue}.Current"/>) forward without the lock; the heap keeps the value it last saw and
/// <see cref="PeekFresh"/> re-keys a stale root lazily. Because live values only grow, a root whose stored key equals its
/// live value is the true minimum.
/// </summary>
internal sealed class NodeHeap<TKey, TValue, TOrder>
    where TKey : notnull
    where TOrder : struct, IHeapOrder<TKey, TValue>
{
    private Entry[] _items = new Entry[16];
    private int _count;

    public int Count => _count;

    public void Push(CacheNode<TKey, TValue> node)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        var index = _count++;
        SiftUp(index, new Entry(TOrder.Current(node), node));
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
        var moved = _items[last];
        _items[last] = default;
        if (index == last)
        {
            return;
        }

        if (index > 0 && moved.Key < _items[(index - 1) >> 2].Key)
        {
            SiftUp(index, moved);
        }
        else
        {
            SiftDown(index, moved);
        }
    }

    /// <summary>
    /// Returns the node with the smallest live value, re-keying stale roots on the way. <paramref name="budget"/> bounds
    /// the re-keying so readers racing ahead cannot keep a writer busy; when it runs out the current root is returned.
    /// </summary>
    public CacheNode<TKey, TValue>? PeekFresh(int budget)
    {
        while (_count > 0)
        {
            var root = _items[0];
            var current = TOrder.Current(root.Node!);
            if (current == root.Key || budget-- <= 0)
            {
                return root.Node;
            }

            if (current > root.Key)
            {
                SiftDown(0, new Entry(current, root.Node!));
            }
            else
            {
                _items[0] = new Entry(current, root.Node!);
            }
        }

        return null;
    }

    private void SiftUp(int index, Entry entry)
    {
        var items = _items;
        while (index > 0)
        {
            var parentIndex = (index - 1) >> 2;
            var parent = items[parentIndex];
            if (parent.Key <= entry.Key)
            {
                break;
            }

            items[index] = parent;
            TOrder.Slot(parent.Node!).Index = index;
            index = parentIndex;
        }

        items[index] = entry;
        TOrder.Slot(entry.Node!).Index = index;
    }

    private void SiftDown(int index, Entry entry)
    {
        var items = _items;
        var count = _count;
        while (true)
        {
            var first = (index << 2) + 1;
            if (first >= count)
            {
                break;
            }

            var best = first;
            var bestKey = items[first].Key;
            var end = Math.Min(first + 4, count);
            for (var child = first + 1; child < end; child++)
            {
                var key = items[child].Key;
                if (key < bestKey)
                {
                    best = child;
                    bestKey = key;
                }
            }

            if (bestKey >= entry.Key)
            {
                break;
            }

            var moved = items[best];
            items[index] = moved;
            TOrder.Slot(moved.Node!).Index = index;
            index = best;
        }

        items[index] = entry;
        TOrder.Slot(entry.Node!).Index = index;
    }

    private readonly record struct Entry(long Key, CacheNode<TKey, TValue>? Node);
}
