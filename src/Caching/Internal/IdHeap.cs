using System.Runtime.CompilerServices;

namespace Resilience.Caching.Internal;

/// <summary>
/// An indexed 4-ary min-heap of node ids keyed by a <see langword="long"/>, used only under the cache's write lock.
/// Everything is an array of primitives: sifting moves keys and ids and records positions by id, so it never touches
/// a node (no cache miss on a scattered object) and never stores a reference (no GC write barrier). The cache owns the
/// id-to-node table and re-keys a stale root through <see cref="RekeyRoot"/>.
/// <para>
/// Sifting down picks the smallest of four children without branching on their keys (conditional moves): the keys are
/// recency stamps and expiry times in effectively random order, so a branch per child comparison was mispredicted about
/// half the time and dominated the write path. Every slot from <see cref="Count"/> to the end of the key array holds
/// <see cref="long.MaxValue"/>, and the array always has <see cref="Padding"/> slots more than the heap holds, so a node's
/// four children can always be read even when fewer exist.
/// </para>
/// </summary>
internal sealed class IdHeap
{
    /// <summary>Slots the key array keeps beyond the last element, so the four children of any element can be read.</summary>
    private const int Padding = 4;

    private long[] _keys = NewKeys(16 + Padding);
    private int[] _ids = new int[16 + Padding];
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
        if (_count + 1 + Padding > _keys.Length)
        {
            var keys = NewKeys(_keys.Length * 2);
            _keys.AsSpan(0, _count).CopyTo(keys);
            _keys = keys;
            Array.Resize(ref _ids, keys.Length);
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
        var movedKey = _keys[last];
        var movedId = _ids[last];
        _keys[last] = long.MaxValue;
        if (index == last)
        {
            return;
        }

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

    /// <summary>Returns <paramref name="ifOne"/> when <paramref name="bit"/> is 1 and <paramref name="ifZero"/> when it is 0, without a branch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Select(int bit, long ifOne, long ifZero)
    {
        var mask = -(long)bit;
        return (ifOne & mask) | (ifZero & ~mask);
    }

    private static long[] NewKeys(int length)
    {
        var keys = new long[length];
        keys.AsSpan().Fill(long.MaxValue);
        return keys;
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

            // Missing children read as long.MaxValue (the padding), so they never win.
            var k3 = keys[first + 3];
            var k2 = keys[first + 2];
            var k1 = keys[first + 1];
            var k0 = keys[first];
            // The JIT does not turn conditionals inside loops into conditional moves, so the selection is written as
            // masks over 0/1 comparison results.
            var low01 = (int)Unsafe.BitCast<bool, byte>(k1 < k0);
            var min01 = Select(low01, k1, k0);
            var low23 = (int)Unsafe.BitCast<bool, byte>(k3 < k2);
            var min23 = Select(low23, k3, k2);
            var upper = (int)Unsafe.BitCast<bool, byte>(min23 < min01);
            var best = first + low01 + ((2 + low23 - low01) & -upper);
            var bestKey = Select(upper, min23, min01);
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
