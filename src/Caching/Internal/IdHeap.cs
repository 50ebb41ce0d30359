namespace Resilience.Caching.Internal;

/// <summary>
/// An indexed 4-ary min-heap of node ids keyed by a <see langword="long"/>, used only under the cache's write lock.
/// Everything is an array of primitives: sifting moves keys and ids and records positions by id, so it never touches
/// a node (no cache miss on a scattered object) and never stores a reference (no GC write barrier). The cache owns the
/// id-to-node table and re-keys a stale root through <see cref="RekeyRoot"/>.
/// </summary>
internal sealed class IdHeap
{
    private long[] _keys = new long[16];
    private int[] _ids = new int[16];
    private int[] _positions = [];
    private int _count;

    public int Count => _count;

    public int RootId => _ids[0];

    public long RootKey => _keys[0];

    /// <summary>Makes room for ids below <paramref name="idLimit"/>.</summary>
    public void EnsureIds(int idLimit)
    {
        if (idLimit > _positions.Length)
        {
            var old = _positions.Length;
            Array.Resize(ref _positions, Math.Max(idLimit, old * 2));
            _positions.AsSpan(old).Fill(-1);
        }
    }

    public bool Contains(int id) => (uint)id < (uint)_positions.Length && _positions[id] >= 0;

    public void Push(int id, long key)
    {
        if (_count == _keys.Length)
        {
            Array.Resize(ref _keys, _keys.Length * 2);
            Array.Resize(ref _ids, _ids.Length * 2);
        }

        SiftUp(_count++, id, key);
    }

    public void Remove(int id)
    {
        if (!Contains(id))
        {
            return;
        }

        var index = _positions[id];
        _positions[id] = -1;
        var last = --_count;
        if (index == last)
        {
            return;
        }

        var movedKey = _keys[last];
        var movedId = _ids[last];
        if (index > 0 && movedKey < _keys[(index - 1) >> 2])
        {
            SiftUp(index, movedId, movedKey);
        }
        else
        {
            SiftDown(index, movedId, movedKey);
        }
    }

    /// <summary>Gives the root a new key (the node's live value, which only grows) and restores the heap order.</summary>
    public void RekeyRoot(long key)
    {
        if (key > _keys[0])
        {
            SiftDown(0, _ids[0], key);
        }
        else
        {
            _keys[0] = key;
        }
    }

    private void SiftUp(int index, int id, long key)
    {
        var keys = _keys;
        var ids = _ids;
        var positions = _positions;
        while (index > 0)
        {
            var parent = (index - 1) >> 2;
            var parentKey = keys[parent];
            if (parentKey <= key)
            {
                break;
            }

            keys[index] = parentKey;
            var parentId = ids[parent];
            ids[index] = parentId;
            positions[parentId] = index;
            index = parent;
        }

        keys[index] = key;
        ids[index] = id;
        positions[id] = index;
    }

    private void SiftDown(int index, int id, long key)
    {
        var keys = _keys;
        var ids = _ids;
        var positions = _positions;
        var count = _count;
        while (true)
        {
            var first = (index << 2) + 1;
            if (first >= count)
            {
                break;
            }

            var best = first;
            var bestKey = keys[first];
            var end = Math.Min(first + 4, count);
            for (var child = first + 1; child < end; child++)
            {
                var childKey = keys[child];
                if (childKey < bestKey)
                {
                    best = child;
                    bestKey = childKey;
                }
            }

            if (bestKey >= key)
            {
                break;
            }

            keys[index] = bestKey;
            var bestId = ids[best];
            ids[index] = bestId;
            positions[bestId] = index;
            index = best;
        }

        keys[index] = key;
        ids[index] = id;
        positions[id] = index;
    }
}
