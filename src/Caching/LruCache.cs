using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.Caching.Internal;

namespace Resilience.Caching;

/// <summary>
/// A thread-safe least-recently-used cache with a strict entry cap, an optional weight cap, a time to live and
/// single-flight loading.
/// </summary>
/// <remarks>
/// <para>
/// <b>The cap is strict.</b> Every write runs under one short lock that first purges expired entries, then evicts the
/// least recently used entries until the new one fits, and only then publishes it. <see cref="Count"/> and
/// <see cref="TotalWeight"/> therefore never exceed <see cref="CacheOptions.Capacity"/> and <see cref="CacheOptions.WeightCap"/>
/// as any thread can observe, at any moment. The newest write is always admitted (unlike <c>MemoryCache</c> with
/// <c>SizeLimit</c>, which refuses new entries when full).
/// </para>
/// <para>
/// <b>Reads take no lock and allocate nothing.</b> A hit checks expiry and records recency on the entry itself; the
/// write path uses those stamps to find the least recently used entry. On one thread the order is exact LRU; under
/// concurrent reads it follows the readers' timestamps.
/// </para>
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class LruCache<TKey, TValue> : IDisposable
    where TKey : notnull
{
    private const long MaxTicks = long.MaxValue / 4;
    private const string DefaultName = "default";

    /// <summary>Bits below the millisecond that system-clock recency stamps keep for the per-thread sequence.</summary>
    private const int SystemRecencyShift = 20;

    private readonly NodeTable<TKey, TValue> _map;
    private readonly ConcurrentDictionary<TKey, LoadFlight<TValue>> _flights;
    private readonly IdHeap _lru = new();
    private readonly IdHeap _expiry = new();
    private readonly Lock _writeLock = new();
    private readonly TimeProvider _time;
    private readonly bool _systemClock;
    private readonly int _recencyShift;
    private readonly Func<TKey, TValue, long>? _weigher;
    private readonly int _capacity;
    private readonly long _weightCap;
    private readonly long _timeToLiveTicks;
    private readonly bool _sliding;
    private readonly CacheMetrics _metrics;
    private readonly Counter<long> _hitCounter;
    private readonly Counter<long> _missCounter;
    private readonly ILogger _logger;
    private NodeSlot[] _nodes = [];
    private int[] _freeIds = [];
    private int _freeIdCount;
    private int _nextId;
    private int[] _queuePrevious = [];
    private int[] _queueNext = [];
    private int _queueHead = -1;
    private int _queueTail = -1;
    private long _queueTailExpiresAt;
    private int _expiryQueueCount;
    private int _count;
    private long _weight;

    /// <summary>Creates a cache.</summary>
    /// <param name="options">Limits and expiry; validated here.</param>
    /// <param name="timeProvider">The clock for expiry; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the <c>Resilience.Caching</c> meter; when <see langword="null"/> the cache owns a meter it disposes with itself.</param>
    /// <param name="logger">Logs failures of eviction handlers.</param>
    /// <exception cref="CacheOptionsException">The options are invalid; every problem is listed.</exception>
    public LruCache(CacheOptions<TKey, TValue> options, TimeProvider? timeProvider = null, IMeterFactory? meterFactory = null, ILogger? logger = null)
        : this(options, options?.Weigher, timeProvider, meterFactory, logger, null)
    {
    }

    internal LruCache(CacheOptions options, Func<TKey, TValue, long>? weigher, TimeProvider? timeProvider, IMeterFactory? meterFactory, ILogger? logger, IEqualityComparer<TKey>? comparer)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new CacheOptionsException(options.GetType(), errors);
        }

        _time = timeProvider ?? TimeProvider.System;

        // The system provider's timestamp is a precise clock read on every hit; the system's millisecond tick count is the
        // same monotonic clock at a cost of a few nanoseconds. Recency stamps keep 20 bits below the millisecond for the
        // per-thread sequence, so one thread stays exactly ordered and threads stay ordered by the millisecond.
        _systemClock = ReferenceEquals(_time, TimeProvider.System);
        _recencyShift = _systemClock ? SystemRecencyShift : 0;
        _weigher = weigher;
        _capacity = options.Capacity;
        _weightCap = options.WeightCap ?? long.MaxValue;
        _timeToLiveTicks = ToTicks(options.TimeToLive);
        _sliding = options.SlidingExpiration;
        Name = options.Name ?? DefaultName;
        _logger = logger ?? NullLogger.Instance;
        _map = new NodeTable<TKey, TValue>(_capacity, comparer);
        _flights = new ConcurrentDictionary<TKey, LoadFlight<TValue>>(comparer);
        _metrics = new CacheMetrics(Name, meterFactory, () => Volatile.Read(ref _count), () => Volatile.Read(ref _weight), _capacity);
        _hitCounter = _metrics.HitCounter;
        _missCounter = _metrics.MissCounter;
    }

    /// <summary>
    /// Raised after entries leave the cache, with the reason. Handlers run on the writing thread after the write lock is
    /// released; an exception from a handler is logged and swallowed.
    /// </summary>
    public event EventHandler<CacheEvictedEventArgs<TKey, TValue>>? Evicted;

    /// <summary>The cache's name (metric tag and log scope).</summary>
    public string Name { get; }

    /// <summary>The entry cap.</summary>
    public int Capacity => _capacity;

    /// <summary>The weight cap, or <see langword="null"/> when only <see cref="Capacity"/> limits the cache.</summary>
    public long? WeightCap => _weightCap == long.MaxValue ? null : _weightCap;

    /// <summary>Entries held now, never more than <see cref="Capacity"/>. Expired entries count until a write or <see cref="TrimExpired"/> purges them.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The total weight held now, never more than <see cref="WeightCap"/>.</summary>
    public long TotalWeight => Volatile.Read(ref _weight);

    /// <summary>Looks a key up. A hit takes no lock, allocates nothing, renews a sliding entry and marks it most recently used.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value when found.</param>
    /// <returns><see langword="true"/> when a live (not expired) entry was found.</returns>
    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (key is null)
        {
            ThrowNullKey();
        }

        if (TryGetLive(key, out value))
        {
            if (_hitCounter.Enabled)
            {
                _metrics.RecordHit();
            }

            return true;
        }

        if (_missCounter.Enabled)
        {
            _metrics.RecordMiss();
        }

        return false;
    }

    /// <summary>Writes a value with the cache's default expiry, evicting least recently used entries first if the cache is full.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="InvalidWeightException">The weigher returned a negative weight.</exception>
    /// <exception cref="EntryTooHeavyException">The entry weighs more than the whole weight cap.</exception>
    public void Set(TKey key, TValue value) => Set(key, value, null);

    /// <summary>Writes a value with per-entry expiry, evicting least recently used entries first if the cache is full.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">Per-entry expiry; <see langword="null"/> for the cache's defaults.</param>
    /// <exception cref="InvalidWeightException">The weigher returned a negative weight.</exception>
    /// <exception cref="EntryTooHeavyException">The entry weighs more than the whole weight cap.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A time to live or sliding window in <paramref name="options"/> is not positive.</exception>
    public void Set(TKey key, TValue value, CacheEntryOptions? options)
    {
        if (key is null)
        {
            ThrowNullKey();
        }

        var weight = _weigher is null ? 1 : _weigher(key, value);
        SetCore(key, value, weight, options);
    }

    /// <summary>Removes an entry, raising <see cref="Evicted"/> with <see cref="CacheEvictionReason.Removed"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> when an entry was removed.</returns>
    public bool Remove(TKey key)
    {
        if (key is null)
        {
            ThrowNullKey();
        }

        return RemoveCore(key, default, false, CacheEvictionReason.Removed);
    }

    /// <summary>Removes every entry, raising <see cref="Evicted"/> with <see cref="CacheEvictionReason.Removed"/>.</summary>
    public void Clear()
    {
        List<(CacheNode<TKey, TValue>, CacheEvictionReason)>? evicted = null;
        lock (_writeLock)
        {
            while (PeekFresh(_lru, lru: true, 0) is { } node)
            {
                Detach(node, CacheEvictionReason.Removed, ref evicted);
            }
        }

        Notify(evicted);
    }

    /// <summary>Purges every expired entry now (writes also purge them), so nothing keeps their values reachable.</summary>
    /// <returns>How many entries were purged.</returns>
    public int TrimExpired()
    {
        List<(CacheNode<TKey, TValue>, CacheEvictionReason)>? evicted = null;
        int purged;
        lock (_writeLock)
        {
            purged = PurgeExpired(Now(), ref evicted);
        }

        Notify(evicted);
        return purged;
    }

    /// <summary>
    /// Returns the cached value, or runs <paramref name="factory"/> once for all concurrent callers that miss on the same key
    /// (single flight) and caches its result. If the factory throws, nothing is cached, nothing is evicted and every waiter
    /// sees the exception.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value on a miss. It may load other keys, but not its own (see the exception).</param>
    /// <returns>The cached or created value.</returns>
    /// <exception cref="CacheLoadCycleException">
    /// Called on a miss from inside the factory that is loading <paramref name="key"/> of this cache, directly or through the
    /// factories of other keys (<c>a -&gt; b -&gt; a</c>), or from a factory whose load another caller's load of
    /// <paramref name="key"/> is (through its factory) waiting on; that call would wait on its own load forever.
    /// </exception>
    public TValue GetOrAdd(TKey key, Func<TKey, TValue> factory)
    {
        if (key is null)
        {
            ThrowNullKey();
        }

        ArgumentNullException.ThrowIfNull(factory);
        if (TryGetValue(key, out var value))
        {
            return value;
        }

        var outer = LoadFrame.Current;
        if (outer is not null && FindCycle(outer, key) is { } cycle)
        {
            throw cycle;
        }

        while (true)
        {
            if (_flights.TryGetValue(key, out var existing))
            {
                return outer is null ? existing.Task.GetAwaiter().GetResult() : WaitInsideLoad(outer, existing);
            }

            var frame = new LoadFrame(this, key, outer);
            var flight = new LoadFlight<TValue>(frame);
            if (!_flights.TryAdd(key, flight))
            {
                continue;
            }

            try
            {
                if (!TryGetLive(key, out value))
                {
                    LoadFrame.Current = frame;
                    outer?.WaitOn(frame);
                    try
                    {
                        value = factory(key);
                    }
                    finally
                    {
                        outer?.StopWaitingOn(frame);
                        LoadFrame.Current = outer;
                    }

                    Set(key, value);
                }

                flight.SetResult(value);
                return value;
            }
            catch (Exception exception)
            {
                flight.SetException(exception);
                throw;
            }
            finally
            {
                frame.Finish();
                _flights.TryRemove(new KeyValuePair<TKey, LoadFlight<TValue>>(key, flight));
            }
        }
    }

    /// <summary>
    /// Returns the cached value, or runs <paramref name="factory"/> once for all concurrent callers that miss on the same key
    /// (single flight) and caches its result. If the factory throws, nothing is cached, nothing is evicted and every waiter
    /// sees the exception. A caller's cancellation stops only that caller's wait: the load goes on for the others (and is
    /// cached when it completes), so the factory is given <see cref="CancellationToken.None"/>.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value on a miss. It may load other keys, but not its own (see the exception).</param>
    /// <param name="cancellationToken">Stops this caller's wait.</param>
    /// <returns>The cached or created value; completes synchronously on a hit.</returns>
    /// <exception cref="CacheLoadCycleException">
    /// (In the returned task.) Called on a miss from the async flow of the factory that is loading <paramref name="key"/>
    /// of this cache, directly or through the factories of other keys (<c>a -&gt; b -&gt; a</c>); that call would wait on its
    /// own load forever; likewise when another caller's load of <paramref name="key"/> is (through its factory) waiting on
    /// the calling factory's load. The check follows the async flow (<see cref="AsyncLocal{T}"/>), so a task the factory
    /// starts without awaiting it also counts as part of the load.
    /// </exception>
    public ValueTask<TValue> GetOrAddAsync(TKey key, Func<TKey, CancellationToken, ValueTask<TValue>> factory, CancellationToken cancellationToken = default)
    {
        if (key is null)
        {
            ThrowNullKey();
        }

        ArgumentNullException.ThrowIfNull(factory);
        if (TryGetValue(key, out var value))
        {
            return new ValueTask<TValue>(value);
        }

        var outer = LoadFrame.Current;
        if (outer is not null && FindCycle(outer, key) is { } cycle)
        {
            return ValueTask.FromException<TValue>(cycle);
        }

        return new ValueTask<TValue>(JoinFlight(key, factory, outer).WaitAsync(cancellationToken));
    }

    /// <summary>Disposes the meter the cache owns (when it was created without an <see cref="IMeterFactory"/>).</summary>
    public void Dispose() => _metrics.Dispose();

    /// <summary>Checks the internal structures agree (tests only); returns a description of the first problem, or null.</summary>
    internal string? CheckConsistency()
    {
        lock (_writeLock)
        {
            if (_map.Count != _count || _lru.Count != _count || _expiry.Count + _expiryQueueCount != _count)
            {
                return $"count {_count}, map {_map.Count}, lru {_lru.Count}, expiry heap {_expiry.Count} + queue {_expiryQueueCount}";
            }

            var queued = 0;
            for (var id = _queueHead; id >= 0; id = _queueNext[id])
            {
                var node = _nodes[id].Node;
                var next = _queueNext[id];
                if (node is null || !node.InExpiryQueue || (next >= 0 && _nodes[next].Node!.ExpiresAt < node.ExpiresAt)
                    || (next >= 0 ? _queuePrevious[next] != id : _queueTail != id))
                {
                    return $"expiry queue out of order at id {id}";
                }

                queued++;
            }

            if (queued != _expiryQueueCount)
            {
                return $"expiry queue holds {queued}, counted {_expiryQueueCount}";
            }

            long weight = 0;
            var linked = 0;
            foreach (var node in _map.Nodes())
            {
                weight += node.Weight;
                linked++;
                if (node.Id < 0 || !ReferenceEquals(_nodes[node.Id].Node, node) || !_lru.Contains(node.Id) || (!_expiry.Contains(node.Id) && !node.InExpiryQueue))
                {
                    return $"entry {node.Key} is missing from the recency or expiry order";
                }
            }

            if (linked != _count)
            {
                return $"table links {linked} nodes, counted {_count}";
            }

            if (weight != _weight)
            {
                return $"weight {_weight} but entries sum to {weight}";
            }

            if (_count > _capacity || _weight > _weightCap)
            {
                return $"over cap: {_count}/{_capacity}, {_weight}/{_weightCap}";
            }

            return null;
        }
    }

    internal bool RemoveIfSame(TKey key, TValue expected) => RemoveCore(key, expected, true, CacheEvictionReason.Removed);

    private Task<TValue> JoinFlight(TKey key, Func<TKey, CancellationToken, ValueTask<TValue>> factory, LoadFrame? outer)
    {
        while (true)
        {
            if (_flights.TryGetValue(key, out var existing))
            {
                if (outer is not null)
                {
                    // The wait stays recorded until the outer load waits on something else or finishes, or this flight
                    // finishes: the async caller's await is not visible here.
                    outer.WaitOn(existing.Frame);
                    if (LoadFrame.FindWaitPath(existing.Frame, outer) is { } path)
                    {
                        outer.StopWaitingOn(existing.Frame);
                        return Task.FromException<TValue>(new CacheLoadCycleException(path[0], path));
                    }
                }

                return existing.Task;
            }

            var flight = new LoadFlight<TValue>(new LoadFrame(this, key, outer));
            if (_flights.TryAdd(key, flight))
            {
                outer?.WaitOn(flight.Frame);
                _ = RunFlightAsync(key, factory, flight);
                return flight.Task;
            }
        }
    }

    /// <summary>
    /// A factory (running <paramref name="outer"/>) waits on another flow's load of the same key: refuses the wait when that
    /// load is itself waiting, through any chain of loads, on <paramref name="outer"/>.
    /// </summary>
    private static TValue WaitInsideLoad(LoadFrame outer, LoadFlight<TValue> existing)
    {
        outer.WaitOn(existing.Frame);
        try
        {
            if (LoadFrame.FindWaitPath(existing.Frame, outer) is { } path)
            {
                throw new CacheLoadCycleException(path[0], path);
            }

            return existing.Task.GetAwaiter().GetResult();
        }
        finally
        {
            outer.StopWaitingOn(existing.Frame);
        }
    }

    private async Task RunFlightAsync(TKey key, Func<TKey, CancellationToken, ValueTask<TValue>> factory, LoadFlight<TValue> flight)
    {
        try
        {
            // A flight that finished between this caller's miss and its TryAdd has already cached the value.
            if (!TryGetLive(key, out var value))
            {
                // Marks this flow as loading the key; being set inside this async method, it flows into the factory and
                // is undone for the caller when the method first yields or returns.
                LoadFrame.Current = flight.Frame;
                value = await factory(key, CancellationToken.None).ConfigureAwait(false);
                Set(key, value);
            }

            flight.SetResult(value);
        }
        catch (OperationCanceledException canceled)
        {
            flight.SetCanceled(canceled.CancellationToken);
        }
        catch (Exception exception)
        {
            flight.SetException(exception);
        }
        finally
        {
            flight.Frame.Finish();
            _flights.TryRemove(new KeyValuePair<TKey, LoadFlight<TValue>>(key, flight));
        }
    }

    /// <summary>
    /// Returns the error to raise when <paramref name="key"/> of this cache is already loading on the current flow (the
    /// caller would wait on its own load), or <see langword="null"/>. Runs only on a miss inside a factory.
    /// </summary>
    private CacheLoadCycleException? FindCycle(LoadFrame innermost, TKey key)
    {
        var comparer = _flights.Comparer;
        for (var frame = innermost; frame is not null; frame = frame.Outer)
        {
            if (ReferenceEquals(frame.Cache, this) && comparer.Equals((TKey)frame.Key, key))
            {
                var path = new List<string?> { key.ToString() };
                for (var step = innermost; ; step = step.Outer!)
                {
                    path.Add(step.Key.ToString());
                    if (ReferenceEquals(step, frame))
                    {
                        break;
                    }
                }

                path.Reverse();
                return new CacheLoadCycleException(key.ToString(), path);
            }
        }

        return null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryGetLive(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (_map.Find(key) is { } node)
        {
            // One test of the clock kind serves both the clock read and the recency sequence.
            long now;
            long stamp;
            if (_systemClock)
            {
                now = SystemTicks.Milliseconds();
                stamp = RecencyClock.NextSystem(now << SystemRecencyShift);
            }
            else
            {
                now = _time.GetTimestamp();
                stamp = RecencyClock.NextOther(now);
            }

            if (now < Volatile.Read(ref node.ExpiresAt))
            {
                if (node.SlidingTicks != 0)
                {
                    Renew(node, now);
                }

                Volatile.Write(ref node.Stamp, stamp);
                value = node.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>Moves a sliding entry's expiry forward (off the common hit path: most entries do not slide).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Renew(CacheNode<TKey, TValue> node, long now)
        => Volatile.Write(ref node.ExpiresAt, Math.Min(SaturatingAdd(now, node.SlidingTicks), node.AbsoluteExpiresAt));

    private void SetCore(TKey key, TValue value, long weight, CacheEntryOptions? options)
    {
        if (weight < 0)
        {
            throw new InvalidWeightException(key.ToString(), weight);
        }

        if (weight > _weightCap)
        {
            throw new EntryTooHeavyException(key.ToString(), weight, _weightCap);
        }

        ResolveExpiry(options, out var relativeTicks, out var slidingTicks, out var absoluteUtc);

        // Everything that does not touch shared state happens before the lock, to keep the critical section short.
        var now = Now();
        var absolute = relativeTicks == long.MaxValue ? long.MaxValue : SaturatingAdd(now, relativeTicks);
        if (absoluteUtc is { } at)
        {
            var untilThen = at - _time.GetUtcNow();
            absolute = Math.Min(absolute, untilThen <= TimeSpan.Zero ? now : SaturatingAdd(now, ToTicks(untilThen)));
        }

        var expiresAt = slidingTicks == 0 ? absolute : Math.Min(absolute, SaturatingAdd(now, slidingTicks));
        var hash = _map.Hash(key);
        var node = new CacheNode<TKey, TValue>(key, hash, value, weight, slidingTicks, absolute, expiresAt);

        // The recency sequence is per thread, so the stamp needs no lock either.
        var stamp = RecencyClock.Next(now << _recencyShift, _systemClock);

        List<(CacheNode<TKey, TValue>, CacheEvictionReason)>? evicted = null;
        lock (_writeLock)
        {
            var existing = _map.FindLocked(key, hash);
            if (existing is not null)
            {
                // The new node takes the old one's place in the table below, so readers see the old value or the new one,
                // never neither.
                Detach(existing, CacheEvictionReason.Replaced, ref evicted, unpublish: expiresAt <= now);
                if (expiresAt <= now)
                {
                    existing = null;
                }
            }

            PurgeExpired(now, ref evicted);

            if (expiresAt <= now)
            {
                // Already expired on arrival: it replaces the old value but is never visible.
                _metrics.Evicted(CacheEvictionReason.Expired);
                if (Evicted is not null)
                {
                    (evicted ??= []).Add((node, CacheEvictionReason.Expired));
                }
            }
            else
            {
                // Make room first, then publish: no thread can ever see more than the caps.
                while (_count >= _capacity)
                {
                    Detach(PeekFresh(_lru, lru: true, _count)!, CacheEvictionReason.Capacity, ref evicted);
                }

                while (_weight > _weightCap - weight)
                {
                    Detach(PeekFresh(_lru, lru: true, _count)!, CacheEvictionReason.Weight, ref evicted);
                }

                node.Stamp = stamp;
                _map.Publish(node, existing);
                AssignId(node);
                _lru.Push(node.Id, node.Stamp);
                AddToExpiryOrder(node);
                Volatile.Write(ref _count, _count + 1);
                Volatile.Write(ref _weight, _weight + weight);
            }
        }

        Notify(evicted);
    }

    private bool RemoveCore(TKey key, TValue? expected, bool onlyIfSame, CacheEvictionReason reason)
    {
        List<(CacheNode<TKey, TValue>, CacheEvictionReason)>? evicted = null;
        var removed = false;
        lock (_writeLock)
        {
            if (_map.FindLocked(key, _map.Hash(key)) is { } node
                && (!onlyIfSame || EqualityComparer<TValue>.Default.Equals(node.Value, expected)))
            {
                Detach(node, reason, ref evicted);
                removed = true;
            }

            PurgeExpired(Now(), ref evicted);
        }

        Notify(evicted);
        return removed;
    }

    private int PurgeExpired(long now, ref List<(CacheNode<TKey, TValue>, CacheEvictionReason)>? evicted)
    {
        var purged = 0;
        while (_queueHead >= 0 && _nodes[_queueHead].Node is { } oldest && oldest.ExpiresAt <= now)
        {
            Detach(oldest, CacheEvictionReason.Expired, ref evicted);
            purged++;
        }

        while (PeekFresh(_expiry, lru: false, _count) is { } soonest && Volatile.Read(ref soonest.ExpiresAt) <= now)
        {
            Detach(soonest, CacheEvictionReason.Expired, ref evicted);
            purged++;
        }

        return purged;
    }

    private void Detach(CacheNode<TKey, TValue> node, CacheEvictionReason reason, ref List<(CacheNode<TKey, TValue>, CacheEvictionReason)>? evicted, bool unpublish = true)
    {
        // Unpublish before the counters drop, so a reader never finds an entry the counters no longer include.
        if (unpublish)
        {
            _map.Remove(node);
        }

        _lru.Remove(node.Id);
        RemoveFromExpiryOrder(node);
        ReleaseId(node);
        Volatile.Write(ref _count, _count - 1);
        Volatile.Write(ref _weight, _weight - node.Weight);
        _metrics.Evicted(reason);
        if (Evicted is not null)
        {
            (evicted ??= []).Add((node, reason));
        }
    }

    /// <summary>
    /// Returns the node with the smallest live value (recency stamp or expiry) in <paramref name="heap"/>, re-keying stale
    /// roots on the way: readers move those values forward without the lock, and because they only grow, a root whose key
    /// equals its live value is the true minimum. <paramref name="budget"/> bounds the re-keying so readers racing ahead
    /// cannot keep a writer busy; when it runs out the current root is returned.
    /// </summary>
    private CacheNode<TKey, TValue>? PeekFresh(IdHeap heap, bool lru, int budget)
    {
        while (heap.Count > 0)
        {
            var node = _nodes[heap.RootId].Node!;
            var current = lru ? Volatile.Read(ref node.Stamp) : Volatile.Read(ref node.ExpiresAt);
            if (current == heap.RootKey || budget-- <= 0)
            {
                return node;
            }

            heap.RekeyRoot(current);
        }

        return null;
    }

    private void AssignId(CacheNode<TKey, TValue> node)
    {
        int id;
        if (_freeIdCount > 0)
        {
            id = _freeIds[--_freeIdCount];
        }
        else
        {
            id = _nextId++;
            if (id == _nodes.Length)
            {
                var size = (int)Math.Min(Math.Max(16L, _nodes.Length * 2L), _capacity);
                Array.Resize(ref _nodes, size);
                Array.Resize(ref _queuePrevious, size);
                Array.Resize(ref _queueNext, size);
                Array.Resize(ref _freeIds, size);
                _lru.EnsureIds(size);
                _expiry.EnsureIds(size);
            }
        }

        node.Id = id;
        _nodes[id].Node = node;
    }

    private void ReleaseId(CacheNode<TKey, TValue> node)
    {
        // Dropping the table's reference is what lets a removed value be collected.
        _nodes[node.Id].Node = null;
        _freeIds[_freeIdCount++] = node.Id;
        node.Id = -1;
    }

    /// <summary>
    /// A node with a fixed expiry that is not earlier than the queue's newest joins the queue in O(1); that is every write
    /// with the cache's default, non-sliding time to live. Sliding entries and entries with an earlier expiry go to the heap.
    /// The queue links are ids in two arrays, so linking and unlinking touch no neighbouring node and store no reference
    /// (no GC write barrier).
    /// </summary>
    private void AddToExpiryOrder(CacheNode<TKey, TValue> node)
    {
        if (node.SlidingTicks != 0 || (_queueTail >= 0 && node.ExpiresAt < _queueTailExpiresAt))
        {
            _expiry.Push(node.Id, node.ExpiresAt);
            return;
        }

        var id = node.Id;
        node.InExpiryQueue = true;
        _queuePrevious[id] = _queueTail;
        _queueNext[id] = -1;
        if (_queueTail < 0)
        {
            _queueHead = id;
        }
        else
        {
            _queueNext[_queueTail] = id;
        }

        _queueTail = id;
        _queueTailExpiresAt = node.ExpiresAt;
        _expiryQueueCount++;
    }

    private void RemoveFromExpiryOrder(CacheNode<TKey, TValue> node)
    {
        if (!node.InExpiryQueue)
        {
            _expiry.Remove(node.Id);
            return;
        }

        var id = node.Id;
        var previous = _queuePrevious[id];
        var next = _queueNext[id];
        if (previous >= 0)
        {
            _queueNext[previous] = next;
        }
        else
        {
            _queueHead = next;
        }

        if (next >= 0)
        {
            _queuePrevious[next] = previous;
        }
        else
        {
            _queueTail = previous;
            if (previous >= 0)
            {
                _queueTailExpiresAt = _nodes[previous].Node!.ExpiresAt;
            }
        }

        node.InExpiryQueue = false;
        _expiryQueueCount--;
    }

    private void Notify(List<(CacheNode<TKey, TValue> Node, CacheEvictionReason Reason)>? evicted)
    {
        if (evicted is null || Evicted is not { } handler)
        {
            return;
        }

        foreach (var (node, reason) in evicted)
        {
            try
            {
                handler(this, new CacheEvictedEventArgs<TKey, TValue>(node.Key, node.Value, node.Weight, reason));
            }
            catch (Exception exception)
            {
                Log.EvictionHandlerFailed(_logger, exception, Name, reason);
            }
        }
    }

    private void ResolveExpiry(CacheEntryOptions? options, out long relativeTicks, out long slidingTicks, out DateTimeOffset? absoluteUtc)
    {
        relativeTicks = long.MaxValue;
        slidingTicks = 0;
        absoluteUtc = null;
        if (options is null || (options.TimeToLive is null && options.SlidingExpiration is null && options.AbsoluteExpiration is null))
        {
            if (_sliding)
            {
                slidingTicks = _timeToLiveTicks;
            }
            else
            {
                relativeTicks = _timeToLiveTicks;
            }

            return;
        }

        if (options.TimeToLive is { } ttl)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero, "options.TimeToLive");
            relativeTicks = ToTicks(ttl);
        }

        if (options.SlidingExpiration is { } sliding)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(sliding, TimeSpan.Zero, "options.SlidingExpiration");
            slidingTicks = ToTicks(sliding);
        }

        absoluteUtc = options.AbsoluteExpiration;
    }

    private long ToTicks(TimeSpan span)
    {
        var frequency = _systemClock ? 1000 : _time.TimestampFrequency;
        if (frequency == TimeSpan.TicksPerSecond)
        {
            return Math.Min(span.Ticks, MaxTicks);
        }

        var ticks = Math.Ceiling(span.Ticks * (double)frequency / TimeSpan.TicksPerSecond);
        return ticks >= MaxTicks ? MaxTicks : Math.Max(1, (long)ticks);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Now() => _systemClock ? SystemTicks.Milliseconds() : _time.GetTimestamp();

    private static long SaturatingAdd(long timestamp, long ticks)
    {
        var sum = timestamp + ticks;
        return sum < timestamp ? long.MaxValue : sum;
    }

    [DoesNotReturn]
    private static void ThrowNullKey() => throw new ArgumentNullException("key");

    /// <summary>
    /// An entry of the id-to-node table, wrapped in a struct: storing into an array of structs needs no covariance check,
    /// which for a reference-type array in shared generic code is a helper call on every store.
    /// </summary>
    private struct NodeSlot
    {
        public CacheNode<TKey, TValue>? Node;
    }
}
