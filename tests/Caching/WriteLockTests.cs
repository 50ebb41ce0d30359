using Resilience.Caching;

namespace Resilience.Caching.Tests;

/// <summary>
/// The write lock: many more writers than cores must all get through, and the caps must hold at every moment they are
/// observed.
/// </summary>
public sealed class WriteLockTests
{
    [Fact]
    public async Task Many_more_writers_than_cores_all_finish_and_the_caps_hold_throughout()
    {
        const int Writers = 16;
        const int WritesPerWriter = 5_000;
        const int Capacity = 64;
        using var cache = new LruCache<int, int>(new CacheOptions<int, int> { Capacity = Capacity, TimeToLive = TimeSpan.FromHours(1) });
        var overCap = 0;
        var done = 0;
        var observer = Task.Run(() =>
        {
            while (Volatile.Read(ref done) == 0)
            {
                if (cache.Count > Capacity)
                {
                    Interlocked.Increment(ref overCap);
                }
            }
        }, TestContext.Current.CancellationToken);

        var completed = 0;
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < WritesPerWriter; i++)
            {
                var key = (w * 7919) + (i % 200);
                cache.Set(key, i);
                if (i % 10 == 0)
                {
                    cache.Remove(key);
                }
            }

            Interlocked.Increment(ref completed);
        }, TestContext.Current.CancellationToken)).ToArray();

        await Task.WhenAll(writers);
        Volatile.Write(ref done, 1);
        await observer;

        Assert.Equal(Writers, completed);
        Assert.Equal(0, overCap);
        Assert.Null(cache.CheckConsistency());
        Assert.InRange(cache.Count, 1, Capacity);

        // The lock is free again: a write on this thread goes straight through and is visible.
        cache.Set(-1, -1);
        Assert.True(cache.TryGetValue(-1, out var value));
        Assert.Equal(-1, value);
    }
}
