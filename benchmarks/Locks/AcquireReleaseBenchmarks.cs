using BenchmarkDotNet.Attributes;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace Resilience.Locks.Benchmarks;

/// <summary>
/// One acquire + release round trip per resource, on the shared local Redis, with 1 or 64 resources locked concurrently.
/// Baseline: StackExchange.Redis's own <c>LockTakeAsync</c>/<c>LockReleaseAsync</c> (what a service uses without a lock library).
/// Each invocation takes and releases <see cref="Resources"/> different locks at once, so times compare per invocation.
/// Two reference rows show what the round trips alone cost on this machine: the package's own two Lua scripts sent
/// straight through StackExchange.Redis (no handle, no metrics, no expiry timer), and a bare <c>SET NX PX</c> + <c>DEL</c>
/// (not a safe lock: the plain DEL can delete another holder's lease; it is the two-round-trip floor).
/// DistributedLock.Redis runs with its defaults (its handles renew in the background); Resilience.Locks with
/// <c>AutoExtend = false</c> and <c>CombineCalls = true</c> (its defaults: concurrent acquires, and concurrent releases, share
/// script calls) and a fixed TTL, plus a row with <c>CombineCalls = false</c> (every acquire and release its own script call).
/// All rows share one multiplexer and one Redis.
/// </summary>
[MemoryDiagnoser]
public class AcquireReleaseBenchmarks
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private ConnectionMultiplexer _redis = null!;
    private IDatabase _db = null!;
    private RedisLockProvider _locks = null!;
    private RedisLockProvider _locksAlone = null!;
    private string[] _resources = null!;
    private RedisKey[] _seKeys = null!;
    private RedisDistributedLock[] _distributedLocks = null!;
    private string _prefix = null!;
    private RedisKey[][] _scriptKeys = null!;
    private RedisKey[] _floorKeys = null!;
    private Func<RedisKey, Task> _takeWithLockTake = null!;
    private Func<RedisDistributedLock, Task> _takeWithDistributedLock = null!;
    private Func<string, Task> _takeWithLocks = null!;
    private Func<string, Task> _takeWithLocksAlone = null!;
    private Func<RedisKey[], Task> _takeWithScripts = null!;
    private Func<RedisKey, Task> _takeWithSetAndDelete = null!;

    [Params(1, 64)]
    public int Resources { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var configuration = Environment.GetEnvironmentVariable("RESILIENCE_REDIS");
        _redis = ConnectionMultiplexer.Connect(string.IsNullOrWhiteSpace(configuration) ? "127.0.0.1:56379" : configuration);
        _db = _redis.GetDatabase();
        _prefix = "bench" + Guid.NewGuid().ToString("N")[..8];
        _locks = new RedisLockProvider(_redis, new RedisLockOptions { KeyPrefix = _prefix, TtlMode = LockTtlMode.Fixed, Ttl = Ttl }, name: _prefix);
        _locksAlone = new RedisLockProvider(
            _redis,
            new RedisLockOptions { KeyPrefix = _prefix + "alone", TtlMode = LockTtlMode.Fixed, Ttl = Ttl, CombineCalls = false },
            name: _prefix + "alone");
        _resources = Enumerable.Range(0, Resources).Select(i => $"user-{i}").ToArray();
        _seKeys = _resources.Select(r => (RedisKey)$"{_prefix}:se:{r}").ToArray();
        _scriptKeys = _resources.Select(r => new RedisKey[] { $"{{{_prefix}:s:{r}}}:lock", $"{{{_prefix}:s:{r}}}:fence" }).ToArray();
        // Load the scripts as the provider does, so the reference row sends EVALSHA too.
        var server = _redis.GetServer(_redis.GetEndPoints()[0]);
        server.ScriptLoad(Redis.LockScripts.Acquire);
        server.ScriptLoad(Redis.LockScripts.Release);
        _floorKeys = _resources.Select(r => (RedisKey)$"{_prefix}:floor:{r}").ToArray();
        _distributedLocks = _resources.Select(r => new RedisDistributedLock($"{_prefix}:dl:{r}", _db, o => o.Expiry(Ttl))).ToArray();

        // One delegate per row, made here, so that an invocation allocates only what the lock itself allocates.
        _takeWithLockTake = TakeWithLockTakeAsync;
        _takeWithDistributedLock = TakeWithDistributedLockAsync;
        _takeWithLocks = resource => TakeWithProviderAsync(_locks, resource);
        _takeWithLocksAlone = resource => TakeWithProviderAsync(_locksAlone, resource);
        _takeWithScripts = TakeWithScriptsAsync;
        _takeWithSetAndDelete = TakeWithSetAndDeleteAsync;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var server = _redis.GetServer(_redis.GetEndPoints()[0]);
        foreach (var key in server.Keys(pattern: "*" + _prefix + "*"))
        {
            _db.KeyDelete(key);
        }

        _locks.Dispose();
        _locksAlone.Dispose();
        _redis.Dispose();
    }

    [Benchmark(Baseline = true, Description = "SE.Redis LockTake/LockRelease")]
    public Task StackExchangeLockTake() => ForEachResource(_seKeys, _takeWithLockTake);

    [Benchmark(Description = "DistributedLock.Redis")]
    public Task DistributedLockRedis() => ForEachResource(_distributedLocks, _takeWithDistributedLock);

    [Benchmark(Description = "Resilience.Locks")]
    public Task ResilienceLocks() => ForEachResource(_resources, _takeWithLocks);

    [Benchmark(Description = "Resilience.Locks, CombineCalls = false")]
    public Task ResilienceLocksCombiningOff() => ForEachResource(_resources, _takeWithLocksAlone);

    [Benchmark(Description = "Same two scripts, no library (reference)")]
    public Task ScriptsOnly() => ForEachResource(_scriptKeys, _takeWithScripts);

    [Benchmark(Description = "SET NX PX + DEL, unsafe (floor)")]
    public Task SetAndDelete() => ForEachResource(_floorKeys, _takeWithSetAndDelete);

    /// <summary>Takes and releases every resource's lock at once (one, or <see cref="Resources"/> concurrently).</summary>
    private static Task ForEachResource<T>(T[] resources, Func<T, Task> takeAndRelease)
    {
        if (resources.Length == 1)
        {
            return takeAndRelease(resources[0]);
        }

        var tasks = new Task[resources.Length];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = takeAndRelease(resources[i]);
        }

        return Task.WhenAll(tasks);
    }

    private static async Task TakeWithDistributedLockAsync(RedisDistributedLock @lock)
    {
        var handle = await @lock.TryAcquireAsync() ?? throw new InvalidOperationException("lock not taken");
        await handle.DisposeAsync();
    }

    private static async Task TakeWithProviderAsync(RedisLockProvider locks, string resource)
    {
        var handle = await locks.TryAcquireAsync(resource, "owner") ?? throw new InvalidOperationException("lock not taken");
        await handle.DisposeAsync();
    }

    private async Task TakeWithLockTakeAsync(RedisKey key)
    {
        var token = Guid.NewGuid().ToString("N");
        if (!await _db.LockTakeAsync(key, token, Ttl))
        {
            throw new InvalidOperationException("lock not taken");
        }

        await _db.LockReleaseAsync(key, token);
    }

    private async Task TakeWithScriptsAsync(RedisKey[] keys)
    {
        RedisValue[] args = [Guid.NewGuid().ToString("N") + "owner", (long)Ttl.TotalMilliseconds];
        var reply = (RedisResult[])(await _db.ScriptEvaluateAsync(Redis.LockScripts.Acquire, keys, args))!;
        if ((long)reply[0] != 1)
        {
            throw new InvalidOperationException("lock not taken");
        }

        await _db.ScriptEvaluateAsync(Redis.LockScripts.Release, keys, args);
    }

    private async Task TakeWithSetAndDeleteAsync(RedisKey key)
    {
        if (!await _db.StringSetAsync(key, "x", Ttl, When.NotExists))
        {
            throw new InvalidOperationException("lock not taken");
        }

        await _db.KeyDeleteAsync(key);
    }
}
