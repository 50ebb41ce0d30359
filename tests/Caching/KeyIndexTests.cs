using Resilience.Caching;

namespace Resilience.Caching.Tests;

/// <summary>
/// The cache's own key index (a hash table readers walk without a lock) under the writes that change its shape:
/// growth (which relinks every entry), replacement and removal, with readers running at the same time.
/// </summary>
public sealed class KeyIndexTests
{
    private const int Anchors = 16;

    [Fact]
    public async Task Growing_the_index_never_hides_a_resident_key_from_concurrent_readers()
    {
        var falseMisses = 0;
        long lookups = 0;
        for (var round = 0; round < 12; round++)
        {
            // No eviction (the cap is above everything written), so an anchor missing is a false miss of the index.
            using var cache = new LruCache<int, int>(new CacheOptions<int, int> { Capacity = 60_000, TimeToLive = TimeSpan.FromHours(1) });
            for (var k = 0; k < Anchors; k++)
            {
                cache.Set(-1 - k, k);
            }

            var writerDone = 0;
            using var started = new CountdownEvent(2);
            var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            {
                started.Signal();
                long local = 0;
                while (Volatile.Read(ref writerDone) == 0)
                {
                    for (var k = 0; k < Anchors; k++)
                    {
                        if (!cache.TryGetValue(-1 - k, out var value) || value != k)
                        {
                            Interlocked.Increment(ref falseMisses);
                        }

                        local++;
                    }
                }

                Interlocked.Add(ref lookups, local);
            }, TestContext.Current.CancellationToken)).ToArray();

            started.Wait(TestContext.Current.CancellationToken);
            for (var key = 0; key < 50_000; key++)
            {
                cache.Set(key, key); // grows the index from 1,024 buckets to 65,536 in six doublings
            }

            Volatile.Write(ref writerDone, 1);
            await Task.WhenAll(readers);
            Assert.Null(cache.CheckConsistency());
            Assert.Equal(50_000 + Anchors, cache.Count);
        }

        Assert.Equal(0, falseMisses);
        Assert.True(lookups > 0);
    }

    [Fact]
    public async Task Replacing_and_removing_neighbours_never_hides_or_corrupts_a_resident_key()
    {
        // A small index (cap 64: 64 buckets) and 4,096 keys hashed into it, so chains are long and every write relinks
        // neighbours of the anchors that readers are walking past.
        using var cache = new LruCache<int, string>(new CacheOptions<int, string> { Capacity = 64, TimeToLive = TimeSpan.FromHours(1) });
        var writerDone = 0;
        var problems = 0;
        long lookups = 0;
        using var started = new CountdownEvent(2);
        var readers = Enumerable.Range(0, 2).Select(seed => Task.Run(() =>
        {
            started.Signal();
            var random = new Random(seed);
            long local = 0;
            while (Volatile.Read(ref writerDone) == 0)
            {
                var key = random.Next(4096);
                if (cache.TryGetValue(key, out var value) && value != $"{key}")
                {
                    Interlocked.Increment(ref problems);
                }

                local++;
            }

            Interlocked.Add(ref lookups, local);
        }, TestContext.Current.CancellationToken)).ToArray();

        started.Wait(TestContext.Current.CancellationToken);
        var writer = new Random(7);
        for (var i = 0; i < 200_000; i++)
        {
            var key = writer.Next(4096);
            if (i % 5 == 0)
            {
                cache.Remove(key);
            }
            else
            {
                cache.Set(key, $"{key}");
            }
        }

        Volatile.Write(ref writerDone, 1);
        await Task.WhenAll(readers);

        Assert.Equal(0, problems);
        Assert.True(lookups > 0);
        Assert.Null(cache.CheckConsistency());

        // After the storm every resident key is found, and nothing else is.
        var found = Enumerable.Range(0, 4096).Count(k => cache.TryGetValue(k, out _));
        Assert.Equal(cache.Count, found);
    }
}
