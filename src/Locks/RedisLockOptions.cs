namespace Resilience.Locks;

/// <summary>
/// Settings of one lock name (one <see cref="RedisLockProvider"/>). Validated once, at start
/// (<see cref="RedisLockOptionsValidator"/>); every default is documented where it is declared.
/// </summary>
public sealed class RedisLockOptions
{
    /// <summary>Longest accepted resource name and owner id, in characters.</summary>
    public const int MaxNameLength = 256;

    /// <summary>Longest accepted lease TTL (also for <see cref="RedisLockHandle.ExtendAsync"/>): one day.</summary>
    public static readonly TimeSpan MaxLeaseTtl = TimeSpan.FromDays(1);

    /// <summary>Longest accepted <see cref="KeyPrefix"/>, in characters.</summary>
    public const int MaxKeyPrefixLength = 64;

    /// <summary>
    /// Prefix of every Redis key of this lock name. Keys are <c>{KeyPrefix:resource}:lock</c> and
    /// <c>{KeyPrefix:resource}:fence</c>, hash-tagged so a resource's keys share one Redis Cluster slot.
    /// Must not contain <c>{</c>, <c>}</c> or <c>:</c> (so the first <c>:</c> of a key always ends the prefix and two lock names never
    /// share keys), nor a lone UTF-16 surrogate; at most <see cref="MaxKeyPrefixLength"/> characters (a named registration whose name contains <c>:</c> must set it explicitly). Default <c>"lock"</c>; the DI registration of a named instance uses the name.
    /// </summary>
    public string KeyPrefix { get; set; } = "lock";

    /// <summary>
    /// StackExchange.Redis configuration string used only when no <c>IConnectionMultiplexer</c> is registered in the container.
    /// Default <see langword="null"/>.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>Redis database number; <c>-1</c> (the default) uses the connection's default database.</summary>
    public int Database { get; set; } = -1;

    /// <summary>
    /// How long before the computed expiry (<see cref="RedisLockHandle.ExpiresAt"/>) a lease is treated as lost:
    /// <see cref="RedisLockHandle.IsLost"/> turns true and <see cref="RedisLockHandle.LostToken"/> fires this much earlier, so
    /// timer lateness and Redis's millisecond expiry rounding cannot let another owner take the lock while the handle still
    /// looks valid. Capped at half of each lease's TTL. Default 20 ms; zero to 1 s.
    /// </summary>
    public TimeSpan ExpirySafetyMargin { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Fixed or adaptive TTL. Default <see cref="LockTtlMode.Adaptive"/>.</summary>
    public LockTtlMode TtlMode { get; set; } = LockTtlMode.Adaptive;

    /// <summary>The TTL of every lease in <see cref="LockTtlMode.Fixed"/> mode, and the starting TTL in adaptive mode. Default 30 s.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Added to the observed p99 hold time in adaptive mode. Default 6 s.</summary>
    public TimeSpan TtlBuffer { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>Lowest adaptive TTL. Default 5 s.</summary>
    public TimeSpan MinTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Highest adaptive TTL. Default 120 s.</summary>
    public TimeSpan MaxTtl { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Hold samples needed in the window before the adaptive TTL replaces <see cref="Ttl"/>. Default 20.</summary>
    public int AdaptiveMinSamples { get; set; } = 20;

    /// <summary>How far back hold durations count for the adaptive TTL and the hold-time watch. Default 10 minutes.</summary>
    public TimeSpan HoldTimeWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Most recent hold durations kept in the window (older ones drop out first). Default 1024.</summary>
    public int HoldTimeWindowCapacity { get; set; } = 1024;

    /// <summary>The hold-time watch alerts while the rolling p95 hold time is above this. Default 15 s.</summary>
    public TimeSpan HoldTimeAlertThreshold { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Samples needed in the window before the hold-time watch may alert. Default 5.</summary>
    public int HoldTimeAlertMinSamples { get; set; } = 5;

    /// <summary>Renew the lease (compare-and-<c>PEXPIRE</c>) while the handle is alive. Default <see langword="false"/>.</summary>
    public bool AutoExtend { get; set; }

    /// <summary>Time between renewals; <see langword="null"/> (the default) renews every third of the lease's TTL.</summary>
    public TimeSpan? ExtendInterval { get; set; }

    /// <summary>Renewal stops once a lease has been held this long, so a stuck but alive holder cannot keep the lock forever. Default 5 minutes.</summary>
    public TimeSpan MaxHoldTime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long <see cref="RedisLockProvider.AcquireAsync"/> waits when no timeout is passed. Default 10 s.</summary>
    public TimeSpan AcquireTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Shortest jittered pause between acquire attempts while the lock is held. Default 20 ms.</summary>
    public TimeSpan RetryDelayMin { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Longest jittered pause between acquire attempts while the lock is held. Default 250 ms.</summary>
    public TimeSpan RetryDelayMax { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Retries of a release after a transient Redis error, within the lease's remaining validity. Default 3; 0 disables.</summary>
    public int ReleaseRetryAttempts { get; set; } = 3;

    /// <summary>Base delay of the exponential, jittered release retries. Default 50 ms.</summary>
    public TimeSpan ReleaseRetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Whether concurrent acquires (and, separately, concurrent releases) of this provider share script calls. When
    /// <see langword="true"/> (the default), while <see cref="MaxCallsInFlight"/> acquire scripts are on the connection, further
    /// acquires queue and the next call to finish sends all of them (up to <see cref="MaxCombinedCalls"/>) as ONE script that
    /// runs, per key, exactly the single-key acquire (<c>SET NX PX</c> + <c>INCR</c> of the fence, or the holder report); the
    /// same for releases (compare-and-delete per key). A lone caller is sent at once (no timer). Every caller still has one
    /// round trip for its acquire and one for its release, and gets its own result. On Redis Cluster (or any multiplexer that
    /// is not a standalone server) every call goes alone, as with <see langword="false"/>: a script may only touch one slot.
    /// Set <see langword="false"/> to send every acquire and release as its own script call, unlimited in flight.
    /// </summary>
    public bool CombineCalls { get; set; } = true;

    /// <summary>
    /// With <see cref="CombineCalls"/>, the most acquire script calls of this provider on the connection at once (and,
    /// separately, the most release calls); requests beyond that queue for the next free call. Between 1 and 64; default 1 (measured
    /// best on a loopback Redis: the fewest, largest shared calls; Redis runs one command at a time anyway).
    /// </summary>
    public int MaxCallsInFlight { get; set; } = 1;

    /// <summary>
    /// With <see cref="CombineCalls"/>, the most callers one shared script call carries (each adds two keys to an acquire
    /// and one to a release; Redis runs the whole script before anything else). Between 2 and 1,000; default 64.
    /// </summary>
    public int MaxCombinedCalls { get; set; } = 64;

    /// <summary>A copy, so later changes to the caller's instance do not affect a running provider.</summary>
    internal RedisLockOptions Clone() => (RedisLockOptions)MemberwiseClone();
}
