namespace Resilience.Locks;

/// <summary>
/// Chooses each lease's TTL: fixed, or p99 of the recent holds + buffer clamped to [min, max] once enough samples exist.
/// The adaptive value is recomputed at most once per <see cref="RecomputeInterval"/> so acquires stay cheap.
/// </summary>
internal sealed class TtlPolicy
{
    internal static readonly TimeSpan RecomputeInterval = TimeSpan.FromSeconds(1);

    private readonly RedisLockOptions _options;
    private readonly HoldTimeWatch _watch;
    private readonly TimeProvider _time;
    private readonly long _recomputeTicks;
    private long _ttlTicks;
    private long _computedAt;
    private bool _computed;

    public TtlPolicy(RedisLockOptions options, HoldTimeWatch watch, TimeProvider time)
    {
        _options = options;
        _watch = watch;
        _time = time;
        _recomputeTicks = (long)(RecomputeInterval.TotalSeconds * time.TimestampFrequency);
        _ttlTicks = options.Ttl.Ticks;
    }

    public TimeSpan Current
    {
        get
        {
            if (_options.TtlMode == LockTtlMode.Fixed)
            {
                return _options.Ttl;
            }

            var now = _time.GetTimestamp();
            if (!Volatile.Read(ref _computed) || now - Volatile.Read(ref _computedAt) >= _recomputeTicks)
            {
                Volatile.Write(ref _ttlTicks, Compute().Ticks);
                Volatile.Write(ref _computedAt, now);
                Volatile.Write(ref _computed, true);
            }

            return TimeSpan.FromTicks(Volatile.Read(ref _ttlTicks));
        }
    }

    /// <summary>The adaptive rule, computed now.</summary>
    internal TimeSpan Compute()
    {
        var p99 = _watch.Quantile(0.99);
        if (p99 is not { } q || q.Count < _options.AdaptiveMinSamples)
        {
            return _options.Ttl;
        }

        var ttl = q.Value + _options.TtlBuffer;
        return ttl < _options.MinTtl ? _options.MinTtl : ttl > _options.MaxTtl ? _options.MaxTtl : ttl;
    }
}
