using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Resilience.Caching.Internal;

namespace Resilience.Caching.Tests;

/// <summary>
/// The indexed 4-ary heap behind the recency and expiry orders (branch-free child selection over a padded key array),
/// checked against a plain dictionary of id to key over random pushes, removals and root re-keyings, at sizes where
/// the heap has several levels and partly filled last groups of children.
/// </summary>
public sealed class IdHeapTests
{
    [Property(MaxTest = 200)]
    public void Root_is_always_the_smallest_key_and_membership_matches_a_reference(PositiveInt sizeSeed, (byte Op, int Id, long Key)[] operations)
    {
        var idLimit = (sizeSeed.Get % 300) + 1;
        var heap = new IdHeap();
        heap.EnsureIds(idLimit);
        var reference = new Dictionary<int, long>();
        var step = 0;

        foreach (var (op, rawId, rawKey) in operations ?? [])
        {
            var id = (int)((uint)rawId % (uint)idLimit);

            // Keys spread over the whole range, including the extremes the padding uses.
            var key = (step++ % 17) switch
            {
                0 => long.MaxValue,
                1 => 0,
                _ => Math.Abs(rawKey % 1_000_000),
            };

            switch (op % 4)
            {
                case 0 or 1:
                    if (!reference.ContainsKey(id))
                    {
                        heap.Push(id, key);
                        reference[id] = key;
                    }

                    break;
                case 2:
                    heap.Remove(id);
                    reference.Remove(id);
                    break;
                default:
                    if (reference.Count > 0)
                    {
                        reference[heap.RootId] = key;
                        heap.RekeyRoot(key);
                    }

                    break;
            }

            Assert.Equal(reference.Count, heap.Count);
            if (reference.Count > 0)
            {
                Assert.Equal(reference.Values.Min(), heap.RootKey);
                Assert.Equal(reference[heap.RootId], heap.RootKey);
            }

            for (var probe = 0; probe < idLimit; probe++)
            {
                Assert.Equal(reference.ContainsKey(probe), heap.Contains(probe));
            }
        }
    }

    [Fact]
    public void Draining_a_large_heap_yields_keys_in_order()
    {
        const int Size = 5_000;
        var heap = new IdHeap();
        heap.EnsureIds(Size);
        var random = new Random(7);
        var keys = new long[Size];
        for (var id = 0; id < Size; id++)
        {
            keys[id] = random.NextInt64(0, 10_000);
            heap.Push(id, keys[id]);
        }

        var drained = new List<long>();
        while (heap.Count > 0)
        {
            var root = heap.RootId;
            Assert.Equal(keys[root], heap.RootKey);
            drained.Add(heap.RootKey);
            heap.Remove(root);
        }

        Assert.Equal(keys.Order(), drained);
    }
}
