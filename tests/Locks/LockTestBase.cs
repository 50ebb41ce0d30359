using Resilience.TestSupport;
using StackExchange.Redis;

namespace Resilience.Locks.Tests;

/// <summary>
/// Tests on the shared Redis: every test class gets its own key prefix (also its lock name, so metrics can be told apart)
/// and deletes its keys at the end.
/// </summary>
public abstract class LockTestBase(ServiceFixture services) : IAsyncLifetime
{
    private readonly List<IDisposable> _owned = [];

    protected string Prefix { get; } = "t" + Guid.NewGuid().ToString("N")[..12];

    protected IConnectionMultiplexer Redis { get; private set; } = null!;

    protected IDatabase Db => Redis.GetDatabase();

    protected ServiceFixture Services => services;

    public virtual async ValueTask InitializeAsync() => Redis = await services.RedisAsync();

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var item in _owned)
        {
            item.Dispose();
        }

        if (Redis is not null)
        {
            await DeleteKeysAsync(Redis, Prefix);
        }

        GC.SuppressFinalize(this);
    }

    internal static async Task DeleteKeysAsync(IConnectionMultiplexer redis, string prefix)
    {
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (!server.IsConnected || server.IsReplica)
            {
                continue;
            }

            var keys = new List<RedisKey>();
            await foreach (var key in server.KeysAsync(pattern: "{" + prefix + "*"))
            {
                keys.Add(key);
            }

            foreach (var key in keys)
            {
                await redis.GetDatabase().KeyDeleteAsync(key);
            }
        }
    }

    protected RedisLockProvider NewProvider(Action<RedisLockOptions>? configure = null, TimeProvider? time = null, IConnectionMultiplexer? redis = null)
    {
        var options = new RedisLockOptions { KeyPrefix = Prefix, TtlMode = LockTtlMode.Fixed, Ttl = TimeSpan.FromSeconds(10) };
        configure?.Invoke(options);
        var provider = new RedisLockProvider(redis ?? Redis, options, time, name: Prefix);
        _owned.Add(provider);
        return provider;
    }

    /// <summary>Records one instrument's measurements of this class's lock name only.</summary>
    protected MetricRecorder Collect(string instrument)
    {
        var recorder = new MetricRecorder(instrument, Prefix);
        _owned.Add(recorder);
        return recorder;
    }

    protected async Task<string?> RawValueAsync(RedisLockProvider provider, string resource) =>
        await Db.StringGetAsync(provider.GetLockKey(resource));

    /// <summary>Awaits a token firing, failing the test (instead of hanging) if it has not fired within <paramref name="limit"/>.</summary>
    protected static async Task WaitForAsync(CancellationToken token, TimeSpan limit)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = token.Register(() => fired.TrySetResult());
        await fired.Task.WaitAsync(limit);
    }
}
