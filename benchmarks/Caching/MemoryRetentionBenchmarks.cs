using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using BitFaster.Caching.Lru;
using Microsoft.Extensions.Caching.Memory;

namespace Resilience.Caching.Benchmarks;

/// <summary>
/// The incident: 2,400 distinct users, a 4 KB entry each, through a 200-entry cap. The Allocated column is the same for
/// everyone (the 2,400 entries are created either way); what differs is what stays reachable afterwards. The global
/// cleanup measures that once per cache (settled full GCs before and after filling a fresh cache) and prints
/// <c>RetainedBytes</c> lines into the benchmark log.
/// </summary>
[MemoryDiagnoser]
public class MemoryRetentionBenchmarks
{
    private const int Users = 2400;
    private const int EntryBytes = 4096;
    private const int Cap = 200;

    private object? _kept;

    [Benchmark(Baseline = true)]
    public object ConcurrentDictionary() => _kept = FillDictionary();

    [Benchmark]
    public object MemoryCache_SizeLimit() => _kept = FillMemoryCache();

    [Benchmark]
    public object BitFaster_ConcurrentLru() => _kept = FillConcurrentLru();

    [Benchmark]
    public object Resilience_LruCache() => _kept = FillLruCache();

    [GlobalCleanup]
    public void ReportRetained()
    {
        _kept = null;
        Report("ConcurrentDictionary", FillDictionary, static c => ((ConcurrentDictionary<string, byte[]>)c).Count);
        Report("MemoryCache_SizeLimit", FillMemoryCache, static c => ((MemoryCache)c).Count);
        Report("BitFaster_ConcurrentLru", FillConcurrentLru, static c => ((ConcurrentLru<string, byte[]>)c).Count);
        Report("Resilience_LruCache", FillLruCache, static c => ((LruCache<string, byte[]>)c).Count);
    }

    private static void Report(string name, Func<object> fill, Func<object, int> count)
    {
        var before = SettledHeapBytes();
        var cache = fill();
        var after = SettledHeapBytes();
        var entries = count(cache);
        GC.KeepAlive(cache);

        // MemoryCache (and LruCache) release their state on Dispose; do it so the next measurement starts clean.
        (cache as IDisposable)?.Dispose();
        Console.WriteLine($"// RetainedBytes {name}: {after - before:N0} bytes, {entries} entries, for {Users:N0} users x {EntryBytes:N0} B through a {Cap}-entry cap (cap x entry = {Cap * EntryBytes:N0}, users x entry = {Users * EntryBytes:N0})");
    }

    private static long SettledHeapBytes()
    {
        // Finalizers can hold the previous cache's entries for one more collection; settle before reading.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static ConcurrentDictionary<string, byte[]> FillDictionary()
    {
        var cache = new ConcurrentDictionary<string, byte[]>();
        for (var user = 0; user < Users; user++)
        {
            cache[UserKey(user)] = new byte[EntryBytes];
        }

        return cache;
    }

    private static MemoryCache FillMemoryCache()
    {
        var cache = BenchmarkCaches.NewMemoryCache(Cap);
        var options = BenchmarkCaches.NewSizedEntry();
        for (var user = 0; user < Users; user++)
        {
            cache.Set(UserKey(user), new byte[EntryBytes], options);
        }

        return cache;
    }

    private static ConcurrentLru<string, byte[]> FillConcurrentLru()
    {
        var cache = BenchmarkCaches.NewConcurrentLru<string, byte[]>(Cap);
        for (var user = 0; user < Users; user++)
        {
            cache.AddOrUpdate(UserKey(user), new byte[EntryBytes]);
        }

        return cache;
    }

    private static LruCache<string, byte[]> FillLruCache()
    {
        var cache = BenchmarkCaches.NewLruCache<string, byte[]>(Cap);
        for (var user = 0; user < Users; user++)
        {
            cache.Set(UserKey(user), new byte[EntryBytes]);
        }

        return cache;
    }

    private static string UserKey(int user) => "user-" + user.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
