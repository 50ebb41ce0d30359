using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using BitFaster.Caching.Lru;
using Microsoft.Extensions.Caching.Memory;

namespace Resilience.Caching.Benchmarks;

/// <summary>
/// The hit path: every key is resident, so each lookup is a hit. Reported per lookup
/// (<see cref="Lookups"/> operations per invocation); allocations per hit show in the Allocated column.
/// </summary>
[MemoryDiagnoser]
public class HitLatencyBenchmarks
{
    private const int Capacity = 1000;
    private const int Lookups = 1024;
    private static readonly string Value = "cached";

    private readonly int[] _keys = new int[Lookups];
    private ConcurrentDictionary<int, string> _dictionary = null!;
    private MemoryCache _memoryCache = null!;
    private ConcurrentLru<int, string> _concurrentLru = null!;
    private ConcurrentTLru<int, string> _concurrentTLru = null!;
    private LruCache<int, string> _lruCache = null!;
    private CappedMemoryCache _cappedMemoryCache = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var i = 0; i < _keys.Length; i++)
        {
            _keys[i] = random.Next(Capacity);
        }

        _dictionary = new ConcurrentDictionary<int, string>();
        _memoryCache = BenchmarkCaches.NewMemoryCache(Capacity);
        _concurrentLru = BenchmarkCaches.NewConcurrentLru<int, string>(Capacity);
        _concurrentTLru = new ConcurrentTLru<int, string>(Capacity, TimeSpan.FromMinutes(5));
        _lruCache = BenchmarkCaches.NewLruCache<int, string>(Capacity);
        _cappedMemoryCache = new CappedMemoryCache(new CappedMemoryCacheOptions { Capacity = Capacity });
        var sized = BenchmarkCaches.NewSizedEntry();
        for (var key = 0; key < Capacity; key++)
        {
            _dictionary[key] = Value;
            _memoryCache.Set(key, Value, sized);
            _concurrentLru.AddOrUpdate(key, Value);
            _concurrentTLru.AddOrUpdate(key, Value);
            _lruCache.Set(key, Value);
            _cappedMemoryCache.Set(key, Value, sized);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _memoryCache.Dispose();
        _lruCache.Dispose();
        _cappedMemoryCache.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    public int ConcurrentDictionary()
    {
        var found = 0;
        foreach (var key in _keys)
        {
            found += _dictionary.TryGetValue(key, out _) ? 1 : 0;
        }

        return found;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int MemoryCache_SizeLimit()
    {
        var found = 0;
        foreach (var key in _keys)
        {
            found += _memoryCache.TryGetValue(key, out _) ? 1 : 0;
        }

        return found;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int BitFaster_ConcurrentLru()
    {
        var found = 0;
        foreach (var key in _keys)
        {
            found += _concurrentLru.TryGet(key, out _) ? 1 : 0;
        }

        return found;
    }

    /// <summary>BitFaster's LRU with a time to live: it reads the clock on every hit, as a TTL cache must.</summary>
    [Benchmark(OperationsPerInvoke = Lookups)]
    public int BitFaster_ConcurrentTLru()
    {
        var found = 0;
        foreach (var key in _keys)
        {
            found += _concurrentTLru.TryGet(key, out _) ? 1 : 0;
        }

        return found;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int Resilience_LruCache()
    {
        var found = 0;
        foreach (var key in _keys)
        {
            found += _lruCache.TryGetValue(key, out _) ? 1 : 0;
        }

        return found;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int Resilience_CappedMemoryCache()
    {
        var found = 0;
        foreach (var key in _keys)
        {
            found += _cappedMemoryCache.TryGetValue(key, out _) ? 1 : 0;
        }

        return found;
    }
}
