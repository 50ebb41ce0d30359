namespace Resilience.Locks;

/// <summary>How a <see cref="RedisLockProvider"/> chooses the TTL of each new lease.</summary>
public enum LockTtlMode
{
    /// <summary>Every lease gets <see cref="RedisLockOptions.Ttl"/>.</summary>
    Fixed = 0,

    /// <summary>
    /// Every lease gets the p99 of the recent hold durations of this lock name plus <see cref="RedisLockOptions.TtlBuffer"/>,
    /// clamped between <see cref="RedisLockOptions.MinTtl"/> and <see cref="RedisLockOptions.MaxTtl"/>; until
    /// <see cref="RedisLockOptions.AdaptiveMinSamples"/> holds were observed it uses <see cref="RedisLockOptions.Ttl"/>.
    /// </summary>
    Adaptive = 1,
}
