using Microsoft.Extensions.Time.Testing;
using Resilience.Caching;

namespace Resilience.Caching.Tests;

public sealed class SingleFlightTests
{
    private static LruCache<string, string> Create(int capacity = 10)
        => new(new CacheOptions<string, string> { Capacity = capacity }, new FakeTimeProvider());

    [Fact]
    public async Task One_hundred_parallel_async_misses_run_the_factory_once()
    {
        using var cache = Create();
        var calls = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = new Task<string>[100];

        Parallel.For(0, tasks.Length, i => tasks[i] = cache.GetOrAddAsync(
            "user-1",
            async (key, _) =>
            {
                Interlocked.Increment(ref calls);
                await gate.Task;
                return key + ":prompt";
            },
            TestContext.Current.CancellationToken).AsTask());
        gate.SetResult();
        var results = await Task.WhenAll(tasks);

        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal("user-1:prompt", r));
        Assert.True(cache.TryGetValue("user-1", out var cached));
        Assert.Equal("user-1:prompt", cached);
    }

    [Fact]
    public void One_hundred_parallel_sync_misses_run_the_factory_once()
    {
        using var cache = Create();
        var calls = 0;
        var results = new string[100];
        using var start = new Barrier(8);

        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            start.SignalAndWait(TestContext.Current.CancellationToken);
            for (var i = t; i < results.Length; i += 8)
            {
                results[i] = cache.GetOrAdd("user-1", key =>
                {
                    Interlocked.Increment(ref calls);
                    Thread.SpinWait(200_000);
                    return key + ":prompt";
                });
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal("user-1:prompt", r));
    }

    [Fact]
    public async Task A_throwing_factory_caches_nothing_evicts_nothing_and_every_waiter_sees_the_exception()
    {
        using var cache = Create(capacity: 3);
        cache.Set("a", "1");
        cache.Set("b", "2");
        cache.Set("c", "3");
        var evictions = 0;
        cache.Evicted += (_, _) => Interlocked.Increment(ref evictions);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var tasks = new Task<string>[100];

        Parallel.For(0, tasks.Length, i => tasks[i] = cache.GetOrAddAsync(
            "d",
            async (_, _) =>
            {
                Interlocked.Increment(ref calls);
                await gate.Task;
                throw new InvalidOperationException("upstream failed");
            },
            TestContext.Current.CancellationToken).AsTask());
        gate.SetResult();

        foreach (var task in tasks)
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => task);
            Assert.Equal("upstream failed", error.Message);
        }

        Assert.Equal(1, calls);
        Assert.Equal(0, evictions);
        Assert.False(cache.TryGetValue("d", out _));
        Assert.Equal(3, cache.Count);
        Assert.True(cache.TryGetValue("a", out _));
        Assert.True(cache.TryGetValue("b", out _));
        Assert.True(cache.TryGetValue("c", out _));
    }

    [Fact]
    public void A_throwing_sync_factory_caches_nothing_and_a_later_call_retries()
    {
        using var cache = Create();
        Assert.Throws<InvalidOperationException>(() => cache.GetOrAdd("a", _ => throw new InvalidOperationException("no")));
        Assert.False(cache.TryGetValue("a", out _));
        Assert.Equal(0, cache.Count);

        Assert.Equal("ok", cache.GetOrAdd("a", _ => "ok"));
    }

    [Fact]
    public async Task One_waiters_cancellation_does_not_cancel_the_others()
    {
        using var cache = Create();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        using var cancelFirst = new CancellationTokenSource();
        async ValueTask<string> Load(string key, CancellationToken token)
        {
            Interlocked.Increment(ref calls);
            await gate.Task;
            return "value";
        }

        var first = cache.GetOrAddAsync("k", Load, cancelFirst.Token).AsTask();
        var second = cache.GetOrAddAsync("k", Load, TestContext.Current.CancellationToken).AsTask();
        await cancelFirst.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.False(second.IsCompleted);
        gate.SetResult();
        Assert.Equal("value", await second);
        Assert.Equal(1, calls);
        Assert.True(cache.TryGetValue("k", out _));
    }

    [Fact]
    public async Task A_hit_completes_synchronously()
    {
        using var cache = Create();
        cache.Set("k", "v");
        var task = cache.GetOrAddAsync("k", (_, _) => throw new InvalidOperationException("must not load"), TestContext.Current.CancellationToken);

        Assert.True(task.IsCompletedSuccessfully);
        Assert.Equal("v", await task);
    }

    [Fact]
    public async Task A_factory_result_heavier_than_the_cap_fails_every_waiter_with_the_typed_error()
    {
        using var cache = new LruCache<string, string>(
            new CacheOptions<string, string> { Capacity = 10, WeightCap = 5, Weigher = static (_, v) => v.Length },
            new FakeTimeProvider());

        await Assert.ThrowsAsync<EntryTooHeavyException>(
            () => cache.GetOrAddAsync("k", (_, _) => ValueTask.FromResult("too long"), TestContext.Current.CancellationToken).AsTask());
        Assert.Equal(0, cache.Count);
    }
}
