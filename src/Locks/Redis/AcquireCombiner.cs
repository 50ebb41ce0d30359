using StackExchange.Redis;

namespace Resilience.Locks.Redis;

/// <summary>One queued acquire: the keys and arguments of the single-key acquire script, for one caller.</summary>
internal sealed class AcquireCall(string resource, string lockKey, string value, TimeSpan ttl, RedisKey[] keys, RedisValue[] args) : CombinedCall
{
    public string Resource { get; } = resource;

    public string LockKey { get; } = lockKey;

    public string Value { get; } = value;

    public TimeSpan Ttl { get; } = ttl;

    /// <summary>Lock key, fence key (the handle reuses them for its release).</summary>
    public RedisKey[] Keys { get; } = keys;

    /// <summary>Lease value (token + owner), TTL in ms.</summary>
    public RedisValue[] Args { get; } = args;
}

/// <summary>
/// Combines concurrent acquires into one <see cref="LockScripts.AcquireMany"/> call; a batch of one sends the
/// single-key <see cref="LockScripts.Acquire"/>.
/// </summary>
internal sealed class AcquireCombiner(IDatabase db, int maxInFlight, int maxPerCall, Action<AcquireCall> cleanUp)
    : ScriptCombiner<AcquireCall>(db, maxInFlight, maxPerCall)
{
    protected override Task<RedisResult> Send(AcquireCall[] batch)
    {
        if (batch.Length == 1)
        {
            return Db.ScriptEvaluateAsync(LockScripts.Acquire, batch[0].Keys, batch[0].Args);
        }

        var keys = new RedisKey[batch.Length * 2];
        var args = new RedisValue[batch.Length * 2];
        for (var i = 0; i < batch.Length; i++)
        {
            keys[2 * i] = batch[i].Keys[0];
            keys[(2 * i) + 1] = batch[i].Keys[1];
            args[2 * i] = batch[i].Args[0];
            args[(2 * i) + 1] = batch[i].Args[1];
        }

        return Db.ScriptEvaluateAsync(LockScripts.AcquireMany, keys, args);
    }

    protected override void CleanUpCancelled(AcquireCall call) => cleanUp(call);
}
