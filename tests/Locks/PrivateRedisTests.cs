using System.Diagnostics;
using System.Globalization;
using Resilience.TestSupport;
using StackExchange.Redis;

namespace Resilience.Locks.Tests;

/// <summary>
/// Tests that kill, restart, pause or count commands on Redis: each runs on its own private redis-server on a free
/// loopback port, never on the shared one.
/// </summary>
public sealed class PrivateRedisTests
{
    private static RedisLockOptions Options(Action<RedisLockOptions>? configure = null)
    {
        var options = new RedisLockOptions { KeyPrefix = "p", TtlMode = LockTtlMode.Fixed, Ttl = TimeSpan.FromSeconds(10) };
        configure?.Invoke(options);
        return options;
    }

    [Fact]
    public async Task Redis_restarted_during_a_hold_fires_the_lost_token_and_acquires_work_again_once_it_is_back()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await server.ConnectAsync();
        using var locks = new RedisLockProvider(redis, Options(o =>
        {
            o.Ttl = TimeSpan.FromSeconds(1);
            o.AutoExtend = true;
            o.ExtendInterval = TimeSpan.FromMilliseconds(200);
        }));
        var handle = await locks.AcquireAsync("user-1", "alice");
        Assert.False(handle.IsLost);

        await server.RestartAsync();

        // Either an extension finds the key gone (the restarted Redis is empty) or no extension gets through before the lease ends.
        await WaitForAsync(handle.LostToken, TimeSpan.FromSeconds(30));
        Assert.True(handle.IsLost);

        await using var again = await locks.AcquireAsync("user-1", "bob", TimeSpan.FromSeconds(30));
        Assert.Equal("bob", (await locks.GetLockInfoAsync("user-1"))!.OwnerId);
        Assert.Equal(LockReleaseOutcome.AlreadyExpired, await handle.ReleaseAsync());
        Assert.Equal("bob", (await locks.GetLockInfoAsync("user-1"))!.OwnerId);
    }

    [Fact]
    public async Task A_holder_process_killed_with_SIGKILL_leaves_a_lock_that_is_free_within_its_ttl()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await server.ConnectAsync();
        using var locks = new RedisLockProvider(redis, Options());
        const int TtlMs = 1500;

        using var holder = StartHolder(server.Configuration, "p", "user-9", "holder-user", TtlMs);
        var line = await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.NotNull(line);
        Assert.StartsWith("ACQUIRED ", line, StringComparison.Ordinal);
        var holderFence = long.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
        var info = await locks.GetLockInfoAsync("user-9");
        Assert.Equal("holder-user", info!.OwnerId);
        Assert.True(info.TimeToLive <= TimeSpan.FromMilliseconds(TtlMs));

        holder.Kill(); // SIGKILL on Linux: no release, no more renewals
        await holder.WaitForExitAsync();
        Assert.NotEqual(0, holder.ExitCode);

        await using var next = await locks.AcquireAsync("user-9", "next-user", TimeSpan.FromMilliseconds(TtlMs + 5000));
        Assert.Equal(holderFence + 1, next.FencingToken);
    }

    [Fact]
    public async Task Acquire_is_exactly_one_round_trip_and_release_is_exactly_one_round_trip()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await server.ConnectAsync();
        using var locks = new RedisLockProvider(redis, Options());
        var admin = redis.GetServer(redis.GetEndPoints()[0]);

        // Warm up (script cache), then count only what the lock operations send.
        await (await locks.TryAcquireAsync("warm", "o"))!.DisposeAsync();
        await locks.EnsureScriptsLoaded();
        await (await locks.TryAcquireAsync("warm", "o"))!.DisposeAsync();
        var evalsBefore = await CommandCallsAsync(admin);
        const int N = 50;
        for (var i = 0; i < N; i++)
        {
            var before = await CommandCallsAsync(admin);
            var handle = await locks.TryAcquireAsync($"r{i}", "owner");
            Assert.NotNull(handle);
            var afterAcquire = await CommandCallsAsync(admin);
            await handle.DisposeAsync();
            var afterRelease = await CommandCallsAsync(admin);

            var acquire = Delta(before, afterAcquire);
            var release = Delta(afterAcquire, afterRelease);

            // One script call from the client; inside it SET NX PX and INCR (run by Redis, not extra round trips).
            Assert.Equal(1, acquire.GetValueOrDefault("eval") + acquire.GetValueOrDefault("evalsha"));
            Assert.Equal(1, acquire.GetValueOrDefault("set"));
            Assert.Equal(1, acquire.GetValueOrDefault("incr"));
            Assert.Equal(3, acquire.Values.Sum()); // nothing else was sent (INFO itself is excluded below)

            Assert.Equal(1, release.GetValueOrDefault("eval") + release.GetValueOrDefault("evalsha"));
            Assert.Equal(1, release.GetValueOrDefault("get"));
            Assert.Equal(1, release.GetValueOrDefault("del"));
            Assert.Equal(3, release.Values.Sum());
        }

        // With the scripts loaded, the client sends the 40-byte hash (EVALSHA), not the script text.
        Assert.Equal(2 * N, Delta(evalsBefore, await CommandCallsAsync(admin)).GetValueOrDefault("evalsha"));
    }

    [Fact]
    public async Task An_acquire_whose_reply_was_lost_deletes_its_own_lease_so_no_orphan_stays()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var admin = await server.ConnectAsync();
        await using var redis = await server.ConnectAsync(o => o.AsyncTimeout = o.SyncTimeout = 300);
        using var locks = new RedisLockProvider(redis, Options());
        var adminServer = admin.GetServer(admin.GetEndPoints()[0]);

        // Writes (and scripts) wait while paused: the acquire is sent but its reply does not come back in time.
        await adminServer.ExecuteAsync("CLIENT", "PAUSE", "10000", "WRITE");
        var error = await Assert.ThrowsAsync<LockBackendException>(() => locks.TryAcquireAsync("user-5", "alice").AsTask());
        Assert.IsType<RedisTimeoutException>(error.InnerException);
        await adminServer.ExecuteAsync("CLIENT", "UNPAUSE");

        // Commands of one connection run in order: once this PING answers, the acquire and the clean-up have both run.
        await redis.GetDatabase().PingAsync();
        await redis.GetDatabase().PingAsync();
        Assert.Equal(1, (long)await admin.GetDatabase().StringGetAsync("{p:user-5}:fence")); // the acquire did run ...
        Assert.False(await admin.GetDatabase().KeyExistsAsync("{p:user-5}:lock"));       // ... and left no orphan
    }

    [Fact]
    public async Task An_acquire_cancelled_by_the_caller_after_it_was_sent_leaves_no_orphan()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var admin = await server.ConnectAsync();
        await using var redis = await server.ConnectAsync();
        using var locks = new RedisLockProvider(redis, Options());
        var adminServer = admin.GetServer(admin.GetEndPoints()[0]);

        await adminServer.ExecuteAsync("CLIENT", "PAUSE", "10000", "WRITE");
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => locks.TryAcquireAsync("user-6", "alice", cts.Token).AsTask());
        await adminServer.ExecuteAsync("CLIENT", "UNPAUSE");

        await redis.GetDatabase().PingAsync();
        await redis.GetDatabase().PingAsync();
        Assert.Equal(1, (long)await admin.GetDatabase().StringGetAsync("{p:user-6}:fence"));
        Assert.False(await admin.GetDatabase().KeyExistsAsync("{p:user-6}:lock"));
    }

    [Fact]
    public async Task Release_after_the_connection_was_dropped_still_deletes_the_lease()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var admin = await server.ConnectAsync();
        await using var redis = await server.ConnectAsync(o => o.ClientName = "locks-under-test");
        using var locks = new RedisLockProvider(redis, Options(o =>
        {
            o.ReleaseRetryAttempts = 5;
            o.ReleaseRetryDelay = TimeSpan.FromMilliseconds(200);
        }));
        var handle = await locks.AcquireAsync("user-7", "alice");

        // Drop the lock connection's sockets: the release is sent on a broken connection and must be retried after reconnect.
        await admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("CLIENT", "KILL", "SKIPME", "yes", "USER", "default");
        var outcome = await handle.ReleaseAsync();

        Assert.Equal(LockReleaseOutcome.Released, outcome);
        Assert.False(await admin.GetDatabase().KeyExistsAsync("{p:user-7}:lock"));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    public async Task A_release_whose_reply_times_out_is_retried_within_the_lease_and_only_fails_without_retries(int retries)
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var admin = await server.ConnectAsync();
        await using var redis = await server.ConnectAsync(o => o.AsyncTimeout = o.SyncTimeout = 300);
        using var locks = new RedisLockProvider(redis, Options(o =>
        {
            o.ReleaseRetryAttempts = retries;
            o.ReleaseRetryDelay = TimeSpan.FromMilliseconds(200);
        }));
        var handle = await locks.AcquireAsync("user-8", "alice");

        // Writes pause for 1 s: the first release attempt times out on the client (300 ms); later attempts get through.
        await admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("CLIENT", "PAUSE", "1000", "WRITE");
        var outcome = await handle.ReleaseAsync();

        if (retries == 0)
        {
            Assert.Equal(LockReleaseOutcome.Failed, outcome);
        }
        else
        {
            // Retried: the timed-out first attempt may have deleted the key before the retry ran, which then finds it gone.
            Assert.Contains(outcome, new[] { LockReleaseOutcome.Released, LockReleaseOutcome.AlreadyExpired });
        }

        await redis.GetDatabase().PingAsync();
        Assert.False(await admin.GetDatabase().KeyExistsAsync("{p:user-8}:lock"));
    }

    private static Process StartHolder(string redis, string prefix, string resource, string owner, int ttlMs)
    {
        var path = HolderPath();
        var start = new ProcessStartInfo(path.StartsWith("dotnet ", StringComparison.Ordinal) ? "dotnet" : path)
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (path.StartsWith("dotnet ", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(path["dotnet ".Length..]);
        }

        foreach (var argument in new[] { redis, prefix, resource, owner, ttlMs.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    /// <summary>tests/LocksHolder/bin/&lt;Configuration&gt;/&lt;tfm&gt;/, built before this project (project reference without the assembly).</summary>
    private static string HolderPath()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = here.Name;
        var configuration = here.Parent!.Name;
        var tests = here.Parent.Parent!.Parent!.Parent!.FullName;
        var directory = Path.Combine(tests, "LocksHolder", "bin", configuration, tfm);
        var apphost = Path.Combine(directory, "Resilience.Locks.Holder");
        if (File.Exists(apphost))
        {
            return apphost;
        }

        var dll = Path.Combine(directory, "Resilience.Locks.Holder.dll");
        Assert.True(File.Exists(dll), $"The holder program was not built at {dll}; build tests/LocksHolder.");
        return "dotnet " + dll;
    }

    internal static async Task<Dictionary<string, long>> CommandCallsAsync(IServer server)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var group in await server.InfoAsync("commandstats"))
        {
            foreach (var pair in group)
            {
                // cmdstat_set: calls=1,usec=...
                var name = pair.Key.Replace("cmdstat_", string.Empty, StringComparison.Ordinal);
                var calls = pair.Value.Split(',')[0].Split('=')[1];
                result[name] = long.Parse(calls, CultureInfo.InvariantCulture);
            }
        }

        return result;
    }

    internal static Dictionary<string, long> Delta(Dictionary<string, long> before, Dictionary<string, long> after)
    {
        var delta = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, calls) in after)
        {
            var diff = calls - before.GetValueOrDefault(name);
            if (diff != 0 && name is not "info" && !name.StartsWith("ping", StringComparison.Ordinal))
            {
                delta[name] = diff;
            }
        }

        return delta;
    }

    private static async Task WaitForAsync(CancellationToken token, TimeSpan limit)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = token.Register(() => fired.TrySetResult());
        await fired.Task.WaitAsync(limit);
    }
}
