using Resilience.TestSupport;
using StackExchange.Redis;

namespace Resilience.Locks.Tests;

/// <summary>Starts one private three-master Redis Cluster for the class.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public PrivateRedisCluster Cluster { get; private set; } = null!;

    public ConnectionMultiplexer Redis { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Cluster = await PrivateRedisCluster.StartAsync();
        Redis = await Cluster.ConnectAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>
/// The lock contract on a real three-master Redis Cluster on loopback: every script touches two keys, so this fails with
/// CROSSSLOT unless the hash tags put a resource's keys in one slot; resources spread over all three masters.
/// </summary>
public sealed class ClusterContractTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private RedisLockProvider NewProvider(Action<RedisLockOptions>? configure = null)
    {
        var options = new RedisLockOptions { KeyPrefix = "c" + Guid.NewGuid().ToString("N")[..8], TtlMode = LockTtlMode.Fixed, Ttl = TimeSpan.FromSeconds(10) };
        configure?.Invoke(options);
        return new RedisLockProvider(cluster.Redis, options);
    }

    [Fact]
    public async Task Acquire_refuse_fence_info_force_release_and_release_work_for_resources_on_every_master()
    {
        using var locks = NewProvider();
        var masters = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 60; i++)
        {
            var resource = $"user-{i}";
            var key = locks.GetLockKey(resource);
            masters.Add(cluster.Redis.GetServer(cluster.Redis.GetDatabase().IdentifyEndpoint(key)!).EndPoint.ToString()!);

            var first = await locks.TryAcquireAsync(resource, "alice");
            Assert.NotNull(first);
            Assert.Null(await locks.TryAcquireAsync(resource, "bob"));
            var info = await locks.GetLockInfoAsync(resource);
            Assert.Equal("alice", info!.OwnerId);
            Assert.Equal(first.FencingToken, info.FencingToken);
            Assert.False(await locks.ForceReleaseAsync(resource, "bob"));
            Assert.True(await locks.ForceReleaseAsync(resource, "alice"));
            Assert.Equal(LockReleaseOutcome.AlreadyExpired, await first.ReleaseAsync());

            await using var second = await locks.AcquireAsync(resource, "bob", TimeSpan.Zero);
            Assert.Equal(first.FencingToken + 1, second.FencingToken);
            Assert.True(await second.ExtendAsync(TimeSpan.FromSeconds(20)));
        }

        Assert.Equal(3, masters.Count);
    }

    [Fact]
    public async Task With_combining_on_concurrent_acquires_and_releases_go_alone_on_the_cluster_and_all_succeed()
    {
        // A script may only touch keys of one slot, and resources spread over all slots: on a cluster every call goes
        // alone (no combiner slot is taken, nothing queues), so concurrent calls never fail with CROSSSLOT.
        using var locks = NewProvider(o => o.MaxCallsInFlight = 1);
        var handles = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => locks.TryAcquireAsync($"u{i}", "alice").AsTask()));
        Assert.All(handles, h => Assert.Equal(1, h!.FencingToken));
        var outcomes = await Task.WhenAll(handles.Select(h => h!.ReleaseAsync().AsTask()));

        Assert.All(outcomes, o => Assert.Equal(LockReleaseOutcome.Released, o));
        Assert.Equal(0, locks.Acquires!.Calls);
        Assert.Equal(0, locks.Releases!.Calls);
        Assert.Empty(await locks.GetHeldResourcesAsync());
    }

    [Fact]
    public async Task A_shared_call_refused_by_the_cluster_sends_its_callers_alone_and_every_lock_is_granted_and_released()
    {
        // The moment before a multiplexer learns it talks to a cluster, it may combine keys of several slots into one call,
        // which the cluster (or the client) refuses as a whole: every caller of that call is then sent alone.
        using var locks = NewProvider(o => o.MaxCallsInFlight = 1);
        locks.CombineOnAnyServer = true;
        var handles = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => locks.TryAcquireAsync($"u{i}", "alice").AsTask()));
        Assert.All(handles, h => Assert.Equal(1, h!.FencingToken));
        var outcomes = await Task.WhenAll(handles.Select(h => h!.ReleaseAsync().AsTask()));

        Assert.All(outcomes, o => Assert.Equal(LockReleaseOutcome.Released, o));
        Assert.True(locks.Acquires!.SharedCalls > 0, "no acquire call was shared: the refusal path was not exercised");
        Assert.True(locks.Releases!.SharedCalls > 0, "no release call was shared: the refusal path was not exercised");
        Assert.Empty(await locks.GetHeldResourcesAsync());
    }

    [Fact]
    public async Task RunAsync_releases_on_every_path_on_the_cluster()
    {
        using var locks = NewProvider();
        Assert.Equal(7, await locks.RunAsync("r", "alice", (_, _) => Task.FromResult(7)));
        await Assert.ThrowsAsync<InvalidOperationException>(() => locks.RunAsync("r", "alice", (_, _) => throw new InvalidOperationException()));
        Assert.False(await locks.IsLockedAsync("r"));
    }

    [Fact]
    public async Task Concurrent_workers_never_overlap_on_the_cluster()
    {
        using var locks = NewProvider(o =>
        {
            o.RetryDelayMin = TimeSpan.FromMilliseconds(1);
            o.RetryDelayMax = TimeSpan.FromMilliseconds(10);
        });
        var inside = 0;
        var overlaps = 0;
        var done = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                await locks.RunAsync("shared", $"w{w}", async (_, _) =>
                {
                    if (Interlocked.Increment(ref inside) != 1)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    await Task.Yield();
                    Interlocked.Decrement(ref inside);
                    Interlocked.Increment(ref done);
                }, TimeSpan.FromSeconds(60));
            }
        })));

        Assert.Equal(0, overlaps);
        Assert.Equal(80, done);
        Assert.False(await locks.IsLockedAsync("shared"));
    }
}
