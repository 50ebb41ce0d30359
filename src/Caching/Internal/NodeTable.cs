using System.Numerics;
using System.Runtime.CompilerServices;

namespace Resilience.Caching.Internal;

/// <summary>
/// The key index: a chained hash table whose chains are the cache nodes themselves (<see cref="CacheNode{TKey, TValue}.Next"/>).
/// One writer at a time (the cache's write lock) links and unlinks nodes; readers walk chains without a lock. A node is
/// published only after all its fields are written, an unlinked node keeps its <c>Next</c> so a reader standing on it
/// still reaches the rest of the chain, and a replacement takes the old node's place in one write, so a reader sees the
/// old node or the new one, never neither. Growing relinks nodes; readers detect it with a version number (odd while
/// growing) and retry a miss, so a growth never produces a false miss. Compared with a <c>ConcurrentDictionary</c> of
/// nodes this saves, per write, the dictionary's own stripe lock and its per-entry allocation, and per read one
/// pointer hop.
/// </summary>
internal sealed class NodeTable<TKey, TValue>
    where TKey : notnull
{
    private const int InitialBuckets = 1024;
    private const int MaxBuckets = 1 << 30;

    private readonly IEqualityComparer<TKey>? _comparer;
    private readonly int _maxBuckets;
    private Bucket[] _buckets;
    private int _version;
    private int _count;

    public NodeTable(int capacity, IEqualityComparer<TKey>? comparer)
    {
        // The default comparer of a value type is devirtualised by the JIT when called through EqualityComparer<T>.Default.
        _comparer = comparer is null || ReferenceEquals(comparer, EqualityComparer<TKey>.Default) ? null : comparer;
        _maxBuckets = (int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 16)), MaxBuckets);
        _buckets = new Bucket[Math.Min(_maxBuckets, InitialBuckets)];
    }

    /// <summary>Nodes linked now (writer only).</summary>
    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Hash(TKey key) => _comparer is null ? key.GetHashCode() : _comparer.GetHashCode(key);

    /// <summary>Finds the node for a key without a lock.</summary>
    /// <remarks>
    /// Hashing, indexing and comparing are written out here rather than called: this class is shared generic code when
    /// the value is a reference type, and the JIT does not inline calls that need its generic context, which cost about
    /// three nanoseconds per hit when they were separate methods.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public CacheNode<TKey, TValue>? Find(TKey key)
    {
        // A node found is always right. Only a miss needs the growth check, so the version is read on that path only,
        // and only while the table can still grow.
        var comparer = _comparer;
        var hash = comparer is null ? key.GetHashCode() : comparer.GetHashCode(key);
        var buckets = Volatile.Read(ref _buckets);
        var index = (int)(((uint)hash * 0x9E3779B9u) >> BitOperations.LeadingZeroCount((uint)buckets.Length - 1));
        for (var node = Volatile.Read(ref buckets[index].Head); node is not null; node = Volatile.Read(ref node.Next))
        {
            if (node.Hash == hash
                && (comparer is null ? EqualityComparer<TKey>.Default.Equals(node.Key, key) : comparer.Equals(node.Key, key)))
            {
                return node;
            }
        }

        // A table at its largest size never grows again, so a miss read from it is final.
        return buckets.Length == _maxBuckets ? null : FindSlow(key, hash);
    }

    /// <summary>Finds the node for a key (writer only: the table cannot change meanwhile).</summary>
    public CacheNode<TKey, TValue>? FindLocked(TKey key, int hash)
    {
        var buckets = _buckets;
        for (var node = buckets[Index(hash, buckets.Length)].Head; node is not null; node = node.Next)
        {
            if (node.Hash == hash && KeyEquals(node.Key, key))
            {
                return node;
            }
        }

        return null;
    }

    /// <summary>Publishes a node whose key is not in the table, or replaces <paramref name="existing"/> (same key) in place.</summary>
    public void Publish(CacheNode<TKey, TValue> node, CacheNode<TKey, TValue>? existing)
    {
        var buckets = _buckets;
        ref var head = ref buckets[Index(node.Hash, buckets.Length)].Head;
        if (existing is not null)
        {
            node.Next = existing.Next;
            ref var link = ref LinkTo(ref head, existing);
            Volatile.Write(ref link!, node);
            return;
        }

        node.Next = head;
        Volatile.Write(ref head, node);
        if (++_count > buckets.Length && buckets.Length < _maxBuckets)
        {
            Grow();
        }
    }

    /// <summary>Unlinks a node if it is linked; its own <c>Next</c> stays so a reader standing on it can go on.</summary>
    public bool Remove(CacheNode<TKey, TValue> node)
    {
        var buckets = _buckets;
        ref var link = ref LinkTo(ref buckets[Index(node.Hash, buckets.Length)].Head, node);
        if (Unsafe.IsNullRef(ref link))
        {
            return false;
        }

        Volatile.Write(ref link!, node.Next);
        _count--;
        return true;
    }

    /// <summary>Every linked node (writer only).</summary>
    public IEnumerable<CacheNode<TKey, TValue>> Nodes()
    {
        foreach (var bucket in _buckets)
        {
            for (var node = bucket.Head; node is not null; node = node.Next)
            {
                yield return node;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Index(int hash, int length)
        => (int)(((uint)hash * 0x9E3779B9u) >> BitOperations.LeadingZeroCount((uint)length - 1));

    /// <summary>The field that points at <paramref name="target"/>: the bucket head or a predecessor's <c>Next</c>.</summary>
    private static ref CacheNode<TKey, TValue>? LinkTo(ref CacheNode<TKey, TValue>? head, CacheNode<TKey, TValue> target)
    {
        ref var link = ref head;
        while (link is not null)
        {
            if (ReferenceEquals(link, target))
            {
                return ref link;
            }

            link = ref link.Next;
        }

        return ref Unsafe.NullRef<CacheNode<TKey, TValue>?>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool KeyEquals(TKey a, TKey b)
        => _comparer is null ? EqualityComparer<TKey>.Default.Equals(a, b) : _comparer.Equals(a, b);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private CacheNode<TKey, TValue>? FindSlow(TKey key, int hash)
    {
        var spinner = default(SpinWait);
        while (true)
        {
            var version = Volatile.Read(ref _version);
            if ((version & 1) != 0)
            {
                spinner.SpinOnce();
                continue;
            }

            var buckets = Volatile.Read(ref _buckets);
            for (var node = Volatile.Read(ref buckets[Index(hash, buckets.Length)].Head); node is not null; node = Volatile.Read(ref node.Next))
            {
                if (node.Hash == hash && KeyEquals(node.Key, key))
                {
                    return node;
                }
            }

            if (Volatile.Read(ref _version) == version)
            {
                return null;
            }
        }
    }

    private void Grow()
    {
        var old = _buckets;
        var grown = new Bucket[old.Length * 2];

        // A full fence: no relinking below may become visible before the odd version. Readers load chain links with
        // acquire semantics, so their second version read cannot move ahead of the links they walked.
        Interlocked.Increment(ref _version);
        foreach (var bucket in old)
        {
            var node = bucket.Head;
            while (node is not null)
            {
                var next = node.Next;
                ref var head = ref grown[Index(node.Hash, grown.Length)].Head;
                node.Next = head;
                head = node;
                node = next;
            }
        }

        Volatile.Write(ref _buckets, grown);
        Volatile.Write(ref _version, _version + 1);
    }

    /// <summary>
    /// A bucket head wrapped in a struct: an array of structs has no covariance, so taking a reference to an element needs
    /// no run-time type check (which for a reference-type array in shared generic code costs a few nanoseconds per lookup).
    /// </summary>
    private struct Bucket
    {
        public CacheNode<TKey, TValue>? Head;
    }
}
