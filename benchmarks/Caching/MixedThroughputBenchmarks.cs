using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using BitFaster.Caching.Lru;
using Microsoft.Extensions.Caching.Memory;

namespace Resilience.Caching.Benchmarks;

/// <summary>
/// 80 % lookups / 20 % writes over a key space twice the capacity (so writes evict and some lookups miss), on 1 and 2
/// threads. Each thread runs 20,000 operations; the mean is the wall time divided by 20,000, so with 2 threads twice the
/// work happens in that time. Lower is higher throughput.
/// <para>
/// Fairness check: wall time on the measuring threads can hide work done elsewhere (a full <c>MemoryCache</c> refuses
/// the write and queues a compaction to the thread pool, which runs on the other core). The global cleanup therefore
/// prints, per case, the whole process's CPU time per operation (all threads, including that compaction and the GC) and
/// the hit ratio of the lookups, as <c>// Fairness</c> lines in the benchmark log.
/// </para>
/// </summary>
[MemoryDiagnoser]
public class MixedThroughputBenchmarks
{
    private const int Capacity = 1000;
    private const int OperationsPerThread = 20_000;
    private static readonly string Value = "cached";
    private static readonly MemoryCacheEntryOptions Sized = BenchmarkCaches.NewSizedEntry();

    private int[][] _keys = null!;
    private bool[][] _isWrite = null!;
    private ConcurrentDictionary<int, string> _dictionary = null!;
    private MemoryCache _memoryCache = null!;
    private ConcurrentLru<int, string> _concurrentLru = null!;
    private LruCache<int, string> _lruCache = null!;
    private TimeSpan _cpuAtSetup;
    private long _operations;
    private long _lookups;
    private long _hits;
    private string _case = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _keys = new int[Threads][];
        _isWrite = new bool[Threads][];
        for (var t = 0; t < Threads; t++)
        {
            var random = new Random(42 + t);
            _keys[t] = new int[OperationsPerThread];
            _isWrite[t] = new bool[OperationsPerThread];
            for (var i = 0; i < OperationsPerThread; i++)
            {
                _keys[t][i] = random.Next(Capacity * 2);
                _isWrite[t][i] = random.Next(100) < 20;
            }
        }

        _dictionary = new ConcurrentDictionary<int, string>();
        _memoryCache = BenchmarkCaches.NewMemoryCache(Capacity);
        _concurrentLru = BenchmarkCaches.NewConcurrentLru<int, string>(Capacity);
        _lruCache = BenchmarkCaches.NewLruCache<int, string>(Capacity);
        _cpuAtSetup = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - _cpuAtSetup;
        var operations = Interlocked.Read(ref _operations);
        if (operations > 0)
        {
            Console.WriteLine($"// Fairness {_case} threads={Threads}: {cpu.TotalNanoseconds / operations:F1} ns process CPU per operation (all threads), " +
                $"hit ratio {(double)Interlocked.Read(ref _hits) / Interlocked.Read(ref _lookups):P1} over {operations:N0} operations");
        }

        _memoryCache.Dispose();
        _lruCache.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OperationsPerThread)]
    public void ConcurrentDictionary() => Run(static (self, key, write) =>
    {
        if (write)
        {
            self._dictionary[key] = Value;
            return false;
        }

        return self._dictionary.TryGetValue(key, out _);
    });

    [Benchmark(OperationsPerInvoke = OperationsPerThread)]
    public void MemoryCache_SizeLimit() => Run(static (self, key, write) =>
    {
        if (write)
        {
            self._memoryCache.Set(key, Value, Sized);
            return false;
        }

        return self._memoryCache.TryGetValue(key, out _);
    });

    [Benchmark(OperationsPerInvoke = OperationsPerThread)]
    public void BitFaster_ConcurrentLru() => Run(static (self, key, write) =>
    {
        if (write)
        {
            self._concurrentLru.AddOrUpdate(key, Value);
            return false;
        }

        return self._concurrentLru.TryGet(key, out _);
    });

    [Benchmark(OperationsPerInvoke = OperationsPerThread)]
    public void Resilience_LruCache() => Run(static (self, key, write) =>
    {
        if (write)
        {
            self._lruCache.Set(key, Value);
            return false;
        }

        return self._lruCache.TryGetValue(key, out _);
    });

    private void Run(Func<MixedThroughputBenchmarks, int, bool, bool> operation, [System.Runtime.CompilerServices.CallerMemberName] string name = "")
    {
        _case = name;
        if (Threads == 1)
        {
            RunThread(0, operation);
            return;
        }

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t => RunThread(t, operation));
    }

    private void RunThread(int thread, Func<MixedThroughputBenchmarks, int, bool, bool> operation)
    {
        var keys = _keys[thread];
        var writes = _isWrite[thread];
        var lookups = 0;
        var hits = 0;
        for (var i = 0; i < keys.Length; i++)
        {
            var write = writes[i];
            lookups += write ? 0 : 1;
            hits += operation(this, keys[i], write) ? 1 : 0;
        }

        Interlocked.Add(ref _operations, keys.Length);
        Interlocked.Add(ref _lookups, lookups);
        Interlocked.Add(ref _hits, hits);
    }
}
