using StackExchange.Redis;

namespace Resilience.Locks.Redis;

/// <summary>One queued release: the lock key and the lease value to compare, for one caller.</summary>
internal sealed class ReleaseCall(RedisKey lockKey, RedisValue value) : CombinedCall
{
    public RedisKey LockKey { get; } = lockKey;

    public RedisValue Value { get; } = value;
}

/// <summary>
/// Combines concurrent releases into one <see cref="LockScripts.ReleaseMany"/> call; a batch of one sends the single-key
/// <see cref="LockScripts.Release"/>. Releases are never cancelled once queued (the first attempt is always sent).
/// </summary>
internal sealed class ReleaseCombiner(IDatabase db, int maxInFlight, int maxPerCall)
    : ScriptCombiner<ReleaseCall>(db, maxInFlight, maxPerCall)
{
    protected override Task<RedisResult> Send(ReleaseCall[] batch)
    {
        if (batch.Length == 1)
        {
            return Db.ScriptEvaluateAsync(LockScripts.Release, [batch[0].LockKey], [batch[0].Value]);
        }

        var keys = new RedisKey[batch.Length];
        var args = new RedisValue[batch.Length];
        for (var i = 0; i < batch.Length; i++)
        {
            keys[i] = batch[i].LockKey;
            args[i] = batch[i].Value;
        }

        return Db.ScriptEvaluateAsync(LockScripts.ReleaseMany, keys, args);
    }

    protected override void CleanUpCancelled(ReleaseCall call)
    {
        // Releases are not cancellable once queued.
    }
}
