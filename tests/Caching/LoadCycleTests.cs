using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Time.Testing;
using Resilience.Caching;

namespace Resilience.Caching.Tests;

/// <summary>
/// A factory that (directly or through other keys' factories) loads its own key would wait on its own load forever; the
/// cache refuses it with <see cref="CacheLoadCycleException"/> instead. Each call runs under a hang guard so a regression
/// fails the test rather than hanging the run.
/// </summary>
public sealed class LoadCycleTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private static LruCache<string, string> Create(int capacity = 10)
        => new(new CacheOptions<string, string> { Capacity = capacity }, new FakeTimeProvider());

    private static Task<T> Guarded<T>(Func<T> call) => Task.Run(call, TestContext.Current.CancellationToken).WaitAsync(HangGuard, TestContext.Current.CancellationToken);

    private static Task<T> Guarded<T>(Func<Task<T>> call) => Task.Run(call, TestContext.Current.CancellationToken).WaitAsync(HangGuard, TestContext.Current.CancellationToken);

    [Fact]
    public async Task A_sync_factory_that_loads_its_own_key_gets_the_typed_error_and_nothing_is_cached()
    {
        using var cache = Create();
        var outerCalls = 0;

        var error = await Assert.ThrowsAsync<CacheLoadCycleException>(() => Guarded(() => cache.GetOrAdd("k", _ =>
        {
            outerCalls++;
            return cache.GetOrAdd("k", _ => "inner");
        })));

        Assert.Equal(1, outerCalls);
        Assert.Equal("k", error.Key);
        Assert.Equal(["k", "k"], error.Path);
        Assert.Contains("'k'", error.Message, StringComparison.Ordinal);
        Assert.Contains("its own", error.Message, StringComparison.Ordinal);
        Assert.False(cache.TryGetValue("k", out _));
        Assert.Equal(0, cache.Count);

        // The failed load left nothing behind: a later load of the key works.
        Assert.Equal("later", cache.GetOrAdd("k", _ => "later"));
    }

    [Fact]
    public async Task An_async_factory_that_loads_its_own_key_gets_the_typed_error_and_nothing_is_cached()
    {
        using var cache = Create();
        var ct = TestContext.Current.CancellationToken;

        var error = await Assert.ThrowsAsync<CacheLoadCycleException>(() => Guarded(async () => await cache.GetOrAddAsync(
            "k",
            async (key, _) =>
            {
                // Re-enter after a real await, on whatever thread the continuation lands on.
                await Task.Yield();
                return await cache.GetOrAddAsync(key, (_, _) => ValueTask.FromResult("inner"), ct);
            },
            ct)));

        Assert.Equal("k", error.Key);
        Assert.Equal(["k", "k"], error.Path);
        Assert.False(cache.TryGetValue("k", out _));
        Assert.Equal("later", await cache.GetOrAddAsync("k", (_, _) => ValueTask.FromResult("later"), ct));
    }

    [Fact]
    public async Task An_async_factory_that_reenters_synchronously_gets_the_typed_error()
    {
        using var cache = Create();
        var ct = TestContext.Current.CancellationToken;

        var error = await Assert.ThrowsAsync<CacheLoadCycleException>(() => Guarded(async () => await cache.GetOrAddAsync(
            "k",
            (key, _) => cache.GetOrAddAsync(key, (_, _) => ValueTask.FromResult("inner"), ct),
            ct)));

        Assert.Equal("k", error.Key);
    }

    [Fact]
    public async Task A_sync_factory_that_blocks_on_the_async_load_of_its_own_key_gets_the_typed_error()
    {
        using var cache = Create();
        var ct = TestContext.Current.CancellationToken;

        var error = await Assert.ThrowsAsync<CacheLoadCycleException>(() => Guarded(() => cache.GetOrAdd(
            "k",
            key => cache.GetOrAddAsync(key, (_, _) => ValueTask.FromResult("inner"), ct).AsTask().GetAwaiter().GetResult())));

        Assert.Equal("k", error.Key);
    }

    [Fact]
    public async Task A_sync_cycle_through_two_keys_gets_the_typed_error_with_the_path_and_caches_neither()
    {
        using var cache = Create();

        string LoadA(string key) => cache.GetOrAdd("b", LoadB) + "+a";
        string LoadB(string key) => cache.GetOrAdd("a", LoadA) + "+b";

        var error = await Assert.ThrowsAsync<CacheLoadCycleException>(() => Guarded(() => cache.GetOrAdd("a", LoadA)));

        Assert.Equal("a", error.Key);
        Assert.Equal(["a", "b", "a"], error.Path);
        Assert.Contains("a -> b -> a", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task An_async_cycle_through_two_keys_gets_the_typed_error_and_caches_neither()
    {
        using var cache = Create();
        var ct = TestContext.Current.CancellationToken;

        async ValueTask<string> LoadA(string key, CancellationToken token)
        {
            await Task.Yield();
            return await cache.GetOrAddAsync("b", LoadB, ct) + "+a";
        }

        async ValueTask<string> LoadB(string key, CancellationToken token)
        {
            await Task.Yield();
            return await cache.GetOrAddAsync("a", LoadA, ct) + "+b";
        }

        var error = await Assert.ThrowsAsync<CacheLoadCycleException>(() => Guarded(async () => await cache.GetOrAddAsync("a", LoadA, ct)));

        Assert.Equal(["a", "b", "a"], error.Path);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task A_chain_without_a_cycle_still_loads_every_key()
    {
        using var cache = Create();
        var ct = TestContext.Current.CancellationToken;

        var sync = await Guarded(() => cache.GetOrAdd("a", _ => cache.GetOrAdd("b", _ => cache.GetOrAdd("c", _ => "c") + "b") + "a"));
        var async = await Guarded(async () => await cache.GetOrAddAsync(
            "x",
            async (_, _) =>
            {
                await Task.Yield();
                return await cache.GetOrAddAsync("y", (_, _) => ValueTask.FromResult("y"), ct) + "x";
            },
            ct));

        Assert.Equal("cba", sync);
        Assert.Equal("yx", async);
        Assert.True(cache.TryGetValue("b", out var b));
        Assert.Equal("cb", b);
        Assert.True(cache.TryGetValue("y", out var y));
        Assert.Equal("y", y);
    }

    [Fact]
    public async Task A_factory_may_load_the_same_key_of_another_cache()
    {
        using var first = Create();
        using var second = Create();

        var value = await Guarded(() => first.GetOrAdd("k", key => second.GetOrAdd(key, _ => "from second") + " via first"));

        Assert.Equal("from second via first", value);
        Assert.True(second.TryGetValue("k", out _));
    }

    [Fact]
    public async Task A_factory_may_read_its_own_key_after_setting_it()
    {
        using var cache = Create();

        var value = await Guarded(() => cache.GetOrAdd("k", key =>
        {
            cache.Set(key, "early");
            return cache.GetOrAdd(key, _ => "unused") + "+late";
        }));

        Assert.Equal("early+late", value);
        Assert.True(cache.TryGetValue("k", out var cached));
        Assert.Equal("early+late", cached);
    }

    [Fact]
    public async Task Callers_waiting_on_a_load_that_hit_a_cycle_see_the_same_error_and_the_key_loads_afterwards()
    {
        using var cache = Create();
        var ct = TestContext.Current.CancellationToken;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async ValueTask<string> Load(string key, CancellationToken token)
        {
            await gate.Task;
            return await cache.GetOrAddAsync(key, (_, _) => ValueTask.FromResult("inner"), ct);
        }

        var owner = cache.GetOrAddAsync("k", Load, ct).AsTask();
        var waiters = Enumerable.Range(0, 20).Select(_ => cache.GetOrAddAsync("k", Load, ct).AsTask()).ToArray();
        gate.SetResult();

        await Assert.ThrowsAsync<CacheLoadCycleException>(() => owner.WaitAsync(HangGuard, ct));
        foreach (var waiter in waiters)
        {
            await Assert.ThrowsAsync<CacheLoadCycleException>(() => waiter.WaitAsync(HangGuard, ct));
        }

        Assert.False(cache.TryGetValue("k", out _));
        Assert.Equal("ok", await cache.GetOrAddAsync("k", (_, _) => ValueTask.FromResult("ok"), ct));
    }

    [Fact]
    public async Task Two_sync_callers_whose_factories_load_each_others_keys_get_the_typed_error_instead_of_a_deadlock()
    {
        using var cache = Create();
        var ct = TestContext.Current.CancellationToken;
        using var aStarted = new ManualResetEventSlim();
        using var bStarted = new ManualResetEventSlim();

        Task<string> Caller(string own, string other, ManualResetEventSlim started, ManualResetEventSlim otherStarted)
            => Task.Factory.StartNew(
                () => cache.GetOrAdd(own, _ =>
                {
                    started.Set();
                    otherStarted.Wait(ct);
                    return cache.GetOrAdd(other, _ => "unused") + "+" + own;
                }),
                ct,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);

        var first = Caller("a", "b", aStarted, bStarted);
        var second = Caller("b", "a", bStarted, aStarted);

        var errors = new[]
        {
            await Assert.ThrowsAsync<CacheLoadCycleException>(() => first.WaitAsync(HangGuard, ct)),
            await Assert.ThrowsAsync<CacheLoadCycleException>(() => second.WaitAsync(HangGuard, ct)),
        };

        Assert.All(errors, e => Assert.Contains(e.Path, p => p == "a"));
        Assert.All(errors, e => Assert.Contains(e.Path, p => p == "b"));
        Assert.Equal(0, cache.Count);
        Assert.Equal("fine", cache.GetOrAdd("a", _ => "fine"));
    }

    [Fact]
    public async Task Two_async_callers_whose_factories_load_each_others_keys_get_the_typed_error_instead_of_a_deadlock()
    {
        using var cache = Create();
        var ct = TestContext.Current.CancellationToken;
        var aStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Func<string, CancellationToken, ValueTask<string>> Loader(string other, TaskCompletionSource started, TaskCompletionSource otherStarted)
            => async (own, _) =>
            {
                started.SetResult();
                await otherStarted.Task;
                return await cache.GetOrAddAsync(other, (_, _) => ValueTask.FromResult("unused"), ct) + "+" + own;
            };

        var first = Task.Run(async () => await cache.GetOrAddAsync("a", Loader("b", aStarted, bStarted), ct), ct);
        var second = Task.Run(async () => await cache.GetOrAddAsync("b", Loader("a", bStarted, aStarted), ct), ct);

        await Assert.ThrowsAsync<CacheLoadCycleException>(() => first.WaitAsync(HangGuard, ct));
        await Assert.ThrowsAsync<CacheLoadCycleException>(() => second.WaitAsync(HangGuard, ct));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task A_factory_may_wait_on_another_callers_load_that_does_not_wait_on_it()
    {
        using var cache = Create();
        var ct = TestContext.Current.CancellationToken;
        var bStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var b = cache.GetOrAddAsync(
            "b",
            async (_, _) =>
            {
                bStarted.SetResult();
                await releaseB.Task;
                return "b";
            },
            ct).AsTask();
        await bStarted.Task;
        var a = cache.GetOrAddAsync("a", async (_, _) => await cache.GetOrAddAsync("b", (_, _) => ValueTask.FromResult("unused"), ct) + "+a", ct).AsTask();
        var syncA = Task.Factory.StartNew(() => cache.GetOrAdd("c", _ => cache.GetOrAdd("b", _ => "unused") + "+c"), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        releaseB.SetResult();

        Assert.Equal("b", await b.WaitAsync(HangGuard, ct));
        Assert.Equal("b+a", await a.WaitAsync(HangGuard, ct));
        Assert.Equal("b+c", await syncA.WaitAsync(HangGuard, ct));
    }

    [Fact]
    public async Task The_IMemoryCache_adapters_GetOrCreate_of_its_own_key_completes_like_MemoryCache()
    {
        // GetOrCreate is the Microsoft extension (TryGetValue, CreateEntry, commit on dispose): it has no single flight, so a
        // nested call for the same key runs its own factory and the outer value replaces the inner one, as with MemoryCache.
        using var capped = new CappedMemoryCache(new CappedMemoryCacheOptions { Capacity = 10 }, new FakeTimeProvider());
        using var reference = new MemoryCache(new MemoryCacheOptions());

        foreach (IMemoryCache cache in new IMemoryCache[] { capped, reference })
        {
            var value = await Guarded(() => cache.GetOrCreate("k", _ => cache.GetOrCreate("k", _ => "inner") + "+outer"));

            Assert.Equal("inner+outer", value);
            Assert.True(cache.TryGetValue("k", out var cached));
            Assert.Equal("inner+outer", cached);
        }
    }
}
