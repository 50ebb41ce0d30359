using Resilience.TestSupport;
using StackExchange.Redis;
using static Resilience.Locks.Tests.PrivateRedisTests;

namespace Resilience.Locks.Tests;

/// <summary>
/// Combining (<see cref="RedisLockOptions.CombineCalls"/>): acquires and releases that queue while the provider's script
/// calls are in flight share one script call. Each test runs on its own private redis-server, whose writes (and scripts) it
/// holds with <c>CLIENT PAUSE WRITE</c> so that the slot stays busy and the queue is known exactly.
/// </summary>
public sealed class CombinedCallTests
{
    private static RedisLockOptions Options(Action<RedisLockOptions>? configure = null)
    {
        var options = new RedisLockOptions { KeyPrefix = "p", TtlMode = LockTtlMode.Fixed, Ttl = TimeSpan.FromSeconds(10), MaxCallsInFlight = 1 };
        configure?.Invoke(options);
        return options;
    }

    private static long ScriptCalls(Dictionary<string, long> delta) => delta.GetValueOrDefault("eval") + delta.GetValueOrDefault("evalsha");

    [Fact]
    public async Task Queued_acquires_share_one_script_call_queued_releases_share_another_and_every_caller_gets_its_own_result()
    {
        await using var redis = await PausableRedis.StartAsync();
        var (adminServer, locks) = (redis.AdminServer, redis.Locks);
        await (await locks.TryAcquireAsync("warm", "o"))!.DisposeAsync();
        var acquireCalls = locks.Acquires!.Calls;
        var releaseCalls = locks.Releases!.Calls;
        var before = await CommandCallsAsync(adminServer);

        // The first acquire takes the only slot and waits on the paused server; the other nine queue behind it.
        await redis.PauseWritesAsync(20_000);
        var first = locks.TryAcquireAsync("r0", "owner-0").AsTask();
        var queued = Enumerable.Range(1, 8).Select(i => locks.TryAcquireAsync($"r{i}", $"owner-{i}").AsTask()).ToList();
        var refused = locks.AcquireAsync("r1", "bob", TimeSpan.Zero).AsTask(); // same resource, later in the same shared call
        Assert.Equal(9, locks.Acquires.Queued);
        await redis.UnpauseAsync();

        var handles = new List<RedisLockHandle> { (await first)! };
        handles.AddRange((await Task.WhenAll(queued))!);
        var error = await Assert.ThrowsAsync<LockTimeoutException>(() => refused);
        var acquired = Delta(before, await CommandCallsAsync(adminServer));

        Assert.Equal(2, ScriptCalls(acquired));          // one alone, one shared by the nine queued callers
        Assert.Equal(2, locks.Acquires.Calls - acquireCalls);
        Assert.Equal(1, locks.Acquires.SharedCalls);
        Assert.Equal(10, acquired.GetValueOrDefault("set")); // per key, exactly the single-key script: SET NX PX ...
        Assert.Equal(9, acquired.GetValueOrDefault("incr")); // ... INCR of the fence on a grant ...
        Assert.Equal(1, acquired.GetValueOrDefault("pttl")); // ... the holder report on a refusal
        for (var i = 0; i < handles.Count; i++)
        {
            Assert.NotNull(handles[i]);
            Assert.Equal($"r{i}", handles[i].Resource);
            Assert.Equal($"owner-{i}", handles[i].OwnerId);
            Assert.Equal(1, handles[i].FencingToken);
        }

        Assert.Equal("owner-1", error.HolderOwnerId);     // the refused caller learns who holds it, in the same shared call
        Assert.NotNull(error.HolderExpiresAt);
        Assert.Equal("owner-5", (await locks.GetLockInfoAsync("r5"))!.OwnerId);

        // Releases: the first takes the slot, the other eight share one compare-and-delete script.
        before = await CommandCallsAsync(adminServer);
        await redis.PauseWritesAsync(20_000);
        var releases = handles.Select(h => h.ReleaseAsync().AsTask()).ToList();
        Assert.Equal(8, locks.Releases.Queued);
        await redis.UnpauseAsync();
        Assert.All(await Task.WhenAll(releases), outcome => Assert.Equal(LockReleaseOutcome.Released, outcome));
        var released = Delta(before, await CommandCallsAsync(adminServer));

        Assert.Equal(2, ScriptCalls(released));
        Assert.Equal(2, locks.Releases.Calls - releaseCalls);
        Assert.Equal(1, locks.Releases.SharedCalls);
        Assert.Equal(9, released.GetValueOrDefault("get"));
        Assert.Equal(9, released.GetValueOrDefault("del"));
        Assert.Empty(await locks.GetHeldResourcesAsync());
    }

    [Fact]
    public async Task A_queued_acquire_cancelled_by_its_caller_is_dropped_and_never_sent()
    {
        await using var redis = await PausableRedis.StartAsync();
        var (admin, adminServer, locks) = (redis.Admin, redis.AdminServer, redis.Locks);
        var before = await CommandCallsAsync(adminServer);

        await redis.PauseWritesAsync(20_000);
        var first = locks.TryAcquireAsync("r0", "alice").AsTask();
        using var cts = new CancellationTokenSource();
        var dropped = locks.TryAcquireAsync("r1", "bob", cts.Token).AsTask();
        Assert.Equal(1, locks.Acquires!.Queued);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped);
        var later = locks.TryAcquireAsync("r2", "carol").AsTask(); // queues behind the dropped request
        await redis.UnpauseAsync();

        await using var h0 = await first;
        await using var h2 = await later;
        Assert.NotNull(h0);
        Assert.NotNull(h2);
        await redis.Client.GetDatabase().PingAsync();
        var delta = Delta(before, await CommandCallsAsync(adminServer));

        // r1 never reached Redis: no lock, no fence counter, and only the two other acquires ran (each alone).
        Assert.False(await admin.GetDatabase().KeyExistsAsync("{p:r1}:lock"));
        Assert.False(await admin.GetDatabase().KeyExistsAsync("{p:r1}:fence"));
        Assert.Equal(2, ScriptCalls(delta));
        Assert.Equal(2, delta.GetValueOrDefault("set"));
        Assert.Equal(0, locks.Acquires.SharedCalls);
    }

    [Fact]
    public async Task A_failed_shared_call_fails_each_caller_with_the_typed_error_and_a_caller_cancelled_after_sending_leaves_no_lock()
    {
        await using var redis = await PausableRedis.StartAsync(connection: o => o.AsyncTimeout = o.SyncTimeout = 300);
        var (admin, locks) = (redis.Admin, redis.Locks);
        var calls = locks.Acquires!.Calls;

        // Writes wait while paused: r0's reply times out on the client, its slot then sends r1 and r2 as one call, which
        // waits too; r1's caller cancels while that shared call is on the connection, r2's times out with it.
        await redis.PauseWritesAsync(30_000);
        var first = locks.TryAcquireAsync("r0", "alice").AsTask();
        using var cts = new CancellationTokenSource();
        var cancelled = locks.TryAcquireAsync("r1", "bob", cts.Token).AsTask();
        var failed = locks.TryAcquireAsync("r2", "carol").AsTask();
        Assert.Equal(2, locks.Acquires.Queued);

        var error0 = await Assert.ThrowsAsync<LockBackendException>(() => first);
        Assert.IsType<RedisTimeoutException>(error0.InnerException);
        await WaitUntilAsync(() => locks.Acquires.Calls == calls + 2);
        Assert.Equal(1, locks.Acquires.SharedCalls);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        var error2 = await Assert.ThrowsAsync<LockBackendException>(() => failed);
        Assert.IsType<RedisTimeoutException>(error2.InnerException);
        Assert.Equal("acquire", error2.Operation);
        await redis.UnpauseAsync();

        // Commands of one connection run in order: once these PINGs answer, the acquires and their clean-ups have all run
        // (or, on a loaded machine, the client gave up on a command before writing it: then neither ran). No lock remains.
        await redis.Client.GetDatabase().PingAsync();
        await redis.Client.GetDatabase().PingAsync();
        foreach (var resource in new[] { "r0", "r1", "r2" })
        {
            Assert.False(await admin.GetDatabase().KeyExistsAsync($"{{p:{resource}}}:lock"));
        }

        Assert.Empty(await locks.GetHeldResourcesAsync());
    }

    [Fact]
    public async Task A_command_error_on_one_callers_key_fails_only_that_caller_of_the_shared_call()
    {
        await using var redis = await PausableRedis.StartAsync();
        var (admin, locks) = (redis.Admin, redis.Locks);
        await admin.GetDatabase().HashSetAsync("{p:bad}:lock", "field", "someone else's hash"); // wrong type for a lock

        await redis.PauseWritesAsync(20_000);
        var first = locks.TryAcquireAsync("r0", "alice").AsTask();
        var before = locks.TryAcquireAsync("good-1", "bob").AsTask();
        var bad = locks.TryAcquireAsync("bad", "carol").AsTask();
        var after = locks.TryAcquireAsync("good-2", "dave").AsTask();
        await redis.UnpauseAsync();

        await using var h0 = await first;
        await using var h1 = await before;
        await using var h2 = await after;
        var error = await Assert.ThrowsAsync<LockBackendException>(() => bad);
        Assert.Contains("WRONGTYPE", Assert.IsType<RedisServerException>(error.InnerException).Message, StringComparison.Ordinal);
        Assert.Equal(1, locks.Acquires!.SharedCalls);
        Assert.NotNull(h0);
        Assert.Equal(1, h1!.FencingToken);
        Assert.Equal(1, h2!.FencingToken);
    }

    [Fact]
    public async Task A_lone_caller_cancelled_after_sending_frees_its_slot_when_the_call_ends_and_leaves_no_lock()
    {
        await using var redis = await PausableRedis.StartAsync();
        var (admin, locks) = (redis.Admin, redis.Locks);

        await redis.PauseWritesAsync(20_000);
        using var cts = new CancellationTokenSource();
        var lone = locks.TryAcquireAsync("r0", "alice", cts.Token).AsTask(); // takes the only slot
        var queued = locks.TryAcquireAsync("r1", "bob").AsTask();            // waits for that slot
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lone);
        Assert.Equal(1, locks.Acquires!.Queued);                              // the slot is still busy: the call is on the wire
        await redis.UnpauseAsync();

        // When the abandoned call ends, its slot sends the queued request; the abandoned lease is deleted behind it.
        await using var next = await queued.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("r1", next!.Resource);
        await redis.Client.GetDatabase().PingAsync();
        Assert.False(await admin.GetDatabase().KeyExistsAsync("{p:r0}:lock"));
        Assert.Equal(0, locks.Acquires.Queued);
    }

    [Fact]
    public async Task Releases_of_a_shared_call_that_timed_out_are_retried_and_leave_no_lock()
    {
        await using var redis = await PausableRedis.StartAsync(o =>
        {
            o.ReleaseRetryAttempts = 5;
            o.ReleaseRetryDelay = TimeSpan.FromMilliseconds(200);
        }, connection: o => o.AsyncTimeout = o.SyncTimeout = 300);
        var locks = redis.Locks;
        var handles = new List<RedisLockHandle>();
        for (var i = 0; i < 3; i++)
        {
            handles.Add(await locks.AcquireAsync($"r{i}", "alice"));
        }

        // Writes pause for 1.5 s: the lone release and then the shared one time out on the client; the retries get through.
        await redis.PauseWritesAsync(1_500);
        var outcomes = await Task.WhenAll(handles.Select(h => h.ReleaseAsync().AsTask()));

        Assert.Equal(1, locks.Releases!.SharedCalls);
        // A timed-out attempt may still have deleted the key before its retry ran, which then finds it gone.
        Assert.All(outcomes, o => Assert.Contains(o, new[] { LockReleaseOutcome.Released, LockReleaseOutcome.AlreadyExpired }));
        await redis.Client.GetDatabase().PingAsync();
        Assert.Empty(await locks.GetHeldResourcesAsync());
    }

    [Fact]
    public async Task With_combining_off_every_call_goes_alone()
    {
        await using var redis = await PausableRedis.StartAsync(o => o.CombineCalls = false);
        var (admin, adminServer, locks) = (redis.Admin, redis.AdminServer, redis.Locks);
        var before = await CommandCallsAsync(adminServer);

        await redis.PauseWritesAsync(20_000);
        var acquires = Enumerable.Range(0, 6).Select(i => locks.TryAcquireAsync($"r{i}", "alice").AsTask()).ToList();
        await redis.UnpauseAsync();
        var handles = await Task.WhenAll(acquires);
        await Task.WhenAll(handles.Select(h => h!.ReleaseAsync().AsTask()));

        Assert.Null(locks.Acquires);
        Assert.Null(locks.Releases);
        Assert.Equal(12, ScriptCalls(Delta(before, await CommandCallsAsync(adminServer))));
        Assert.Empty(await locks.GetHeldResourcesAsync());
    }

    /// <summary>
    /// A private redis-server with an admin connection (which pauses and unpauses writes, and reads command statistics) and
    /// a client connection that the provider under test uses, with its scripts loaded.
    /// </summary>
    private sealed class PausableRedis : IAsyncDisposable
    {
        private PausableRedis(PrivateRedisServer server, ConnectionMultiplexer admin, ConnectionMultiplexer client, RedisLockProvider locks)
        {
            Server = server;
            Admin = admin;
            AdminServer = admin.GetServer(admin.GetEndPoints()[0]);
            Client = client;
            Locks = locks;
        }

        public PrivateRedisServer Server { get; }

        public ConnectionMultiplexer Admin { get; }

        public IServer AdminServer { get; }

        public ConnectionMultiplexer Client { get; }

        public RedisLockProvider Locks { get; }

        public static async Task<PausableRedis> StartAsync(Action<RedisLockOptions>? configure = null, Action<ConfigurationOptions>? connection = null)
        {
            var server = await PrivateRedisServer.StartAsync();
            var admin = await server.ConnectAsync();
            var client = await server.ConnectAsync(connection);
            var locks = new RedisLockProvider(client, Options(configure));
            await locks.EnsureScriptsLoaded();
            return new PausableRedis(server, admin, client, locks);
        }

        /// <summary>Holds every write (and script) of the server for up to <paramref name="milliseconds"/>.</summary>
        public Task PauseWritesAsync(int milliseconds) =>
            AdminServer.ExecuteAsync("CLIENT", "PAUSE", milliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "WRITE");

        public Task UnpauseAsync() => AdminServer.ExecuteAsync("CLIENT", "UNPAUSE");

        public async ValueTask DisposeAsync()
        {
            Locks.Dispose();
            await Client.DisposeAsync();
            await Admin.DisposeAsync();
            await Server.DisposeAsync();
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(5, limit.Token);
        }
    }
}
