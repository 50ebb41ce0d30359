using Resilience.Locks.Redis;
using Resilience.Locks.Telemetry;
using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace Resilience.Locks;

/// <summary>
/// One lease on one resource. Dispose it (sync or async) to release: a compare-and-delete on this lease's secret token that
/// never touches another holder's lock. <see cref="LostToken"/> fires when the lease is lost: its TTL ran out (measured from
/// before the acquire was sent, less <see cref="RedisLockOptions.ExpirySafetyMargin"/>), or an extension found the key gone or
/// owned by another.
/// </summary>
public sealed class RedisLockHandle : IAsyncDisposable, IDisposable
{
    private readonly RedisLockProvider _provider;
    private readonly long _acquiredTimestamp;
    private readonly CancellationTokenSource _lost;
    private readonly CancellationTokenSource? _renewal;
    private long _expiresAtTicks;
    private long _lostAtTicks;
    private CancellationTokenSource? _workCancel;
    private int _released;
    private int _lostCounted;

    internal RedisLockHandle(
        RedisLockProvider provider,
        string resource,
        string ownerId,
        string lockKey,
        string value,
        RedisKey[] scriptKeys,
        RedisValue[] scriptArgs,
        long fencingToken,
        TimeSpan ttl,
        long acquiredTimestamp,
        DateTimeOffset acquiredAt)
    {
        _provider = provider;
        Resource = resource;
        OwnerId = ownerId;
        LockKey = lockKey;
        Value = value;
        ScriptKeys = scriptKeys;
        ScriptArgs = scriptArgs;
        FencingToken = fencingToken;
        Ttl = ttl;
        _acquiredTimestamp = acquiredTimestamp;
        AcquiredAt = acquiredAt;
        _expiresAtTicks = (acquiredAt + ttl).UtcTicks;
        var margin = MarginFor(ttl);
        _lostAtTicks = (acquiredAt + ttl - margin).UtcTicks;
        var left = ttl - margin - provider.Time.GetElapsedTime(acquiredTimestamp);
        _lost = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero, provider.Time);
        LostToken = _lost.Token;
        LostToken.UnsafeRegister(static state => ((RedisLockHandle)state!).OnLost(), this);
        if (provider.Options.AutoExtend)
        {
            _renewal = new CancellationTokenSource();
            _ = RenewAsync(_renewal.Token);
        }
    }

    /// <summary>The locked resource.</summary>
    public string Resource { get; }

    /// <summary>The owner id recorded with the lease.</summary>
    public string OwnerId { get; }

    /// <summary>
    /// A number that strictly increases on every grant of this resource. Pass it to downstream writes so they can reject a
    /// stale holder whose lease was lost.
    /// </summary>
    public long FencingToken { get; }

    /// <summary>The TTL this lease was granted with (and renewed to).</summary>
    public TimeSpan Ttl { get; }

    /// <summary>When the acquire was sent (the lease's validity is measured from here).</summary>
    public DateTimeOffset AcquiredAt { get; }

    /// <summary>When the lease expires unless renewed, as seen by this process (from before the acquire or last extension was sent).</summary>
    public DateTimeOffset ExpiresAt => new(Volatile.Read(ref _expiresAtTicks), TimeSpan.Zero);

    /// <summary>
    /// When this process treats the lease as lost: <see cref="ExpiresAt"/> less the safety margin
    /// (<see cref="RedisLockOptions.ExpirySafetyMargin"/>, at most half the TTL).
    /// </summary>
    public DateTimeOffset LostAt => new(Volatile.Read(ref _lostAtTicks), TimeSpan.Zero);

    /// <summary>
    /// Fires when the lease is lost: at <see cref="LostAt"/> (a safety margin before <see cref="ExpiresAt"/>, so that timer
    /// lateness does not let it fire after Redis expired the key), or when an extension finds the key gone or taken. Not fired
    /// by a normal release. A timer callback can still run late on a starved thread pool; <see cref="IsLost"/> never is.
    /// </summary>
    public CancellationToken LostToken { get; }

    /// <summary>
    /// Whether the lease has been lost. Compares the <see cref="TimeProvider"/>'s clock with <see cref="LostAt"/> on every read,
    /// so it turns <see langword="true"/> no later than Redis expires the key even if the <see cref="LostToken"/> timer is late
    /// (reading it then also fires <see cref="LostToken"/>, its callbacks on the thread pool). After a normal release it stays
    /// <see langword="false"/> unless the lease had been lost before.
    /// </summary>
    public bool IsLost
    {
        get
        {
            if (LostToken.IsCancellationRequested)
            {
                return true;
            }

            if (IsReleased || _provider.Time.GetUtcNow().UtcTicks < Volatile.Read(ref _lostAtTicks))
            {
                return false;
            }

            MarkLostAsync();
            return true;
        }
    }

    /// <summary>Whether release has begun.</summary>
    public bool IsReleased => Volatile.Read(ref _released) != 0;

    internal string LockKey { get; }

    internal string Value { get; }

    /// <summary>The acquire's KEYS (lock, fence) and ARGV (value, TTL), reused by release: its script reads only KEYS[1] and ARGV[1].</summary>
    internal RedisKey[] ScriptKeys { get; }

    /// <summary>See <see cref="ScriptKeys"/>.</summary>
    internal RedisValue[] ScriptArgs { get; }

    internal TimeSpan HeldFor => _provider.Time.GetElapsedTime(_acquiredTimestamp);

    internal TimeSpan RemainingValidity => ExpiresAt - _provider.Time.GetUtcNow();

    /// <summary>
    /// Extends the lease by compare-and-<c>PEXPIRE</c>: only while the key still holds this lease's token; an expired key is
    /// never re-created. When the key is gone or owned by another, the lease is marked lost and <see cref="LostToken"/> fires.
    /// </summary>
    /// <param name="ttl">The new time to live from now; <see cref="Ttl"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the wait for the reply.</param>
    /// <returns><see langword="true"/> when extended; <see langword="false"/> when lost or already released.</returns>
    /// <exception cref="InvalidLockArgumentException"><paramref name="ttl"/> is not positive.</exception>
    /// <exception cref="LockBackendException">Redis failed; the lease is unchanged and may still expire.</exception>
    public async ValueTask<bool> ExtendAsync(TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        var length = ttl ?? Ttl;
        if (length < TimeSpan.FromMilliseconds(1) || length > RedisLockOptions.MaxLeaseTtl)
        {
            throw new InvalidLockArgumentException(nameof(ttl), $"it is {length}; it must be between 1 ms and {RedisLockOptions.MaxLeaseTtl}.", Resource);
        }

        if (IsReleased || IsLost)
        {
            return false;
        }

        var time = _provider.Time;
        var sentAt = time.GetTimestamp();
        var sentAtUtc = time.GetUtcNow();
        long result;
        try
        {
            result = (long)await _provider.Database.ScriptEvaluateAsync(LockScripts.Extend, [LockKey], [Value, (long)Math.Ceiling(length.TotalMilliseconds)])
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw new LockBackendException(Resource, "extend", ex);
        }

        if (result != 1)
        {
            MarkLost();
            return false;
        }

        if (IsLost || IsReleased)
        {
            return false;
        }

        var margin = MarginFor(length);
        Volatile.Write(ref _lostAtTicks, (sentAtUtc + length - margin).UtcTicks);
        Volatile.Write(ref _expiresAtTicks, (sentAtUtc + length).UtcTicks);
        try
        {
            var left = length - margin - time.GetElapsedTime(sentAt);
            _lost.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        return true;
    }

    /// <summary>
    /// Releases the lease: compare-and-delete on its token, one round trip; transient Redis errors are retried within the
    /// remaining validity. Never throws for Redis trouble: a release that finally fails is logged and the TTL frees the lock.
    /// Safe to call more than once.
    /// </summary>
    /// <param name="cancellationToken">Stops the retries (the first attempt is always sent).</param>
    /// <returns>What the release did.</returns>
    public ValueTask<LockReleaseOutcome> ReleaseAsync(CancellationToken cancellationToken = default) =>
        BeginRelease() ? _provider.ReleaseAsync(this, cancellationToken) : new(LockReleaseOutcome.AlreadyReleased);

    /// <summary>Releases the lease; see <see cref="ReleaseAsync"/>.</summary>
    /// <returns>A task that completes after the release; pooled, so await it once (as <c>await using</c> does).</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask DisposeAsync()
    {
        if (BeginRelease())
        {
            await _provider.ReleaseAsync(this, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Releases the lease synchronously (blocking on Redis); see <see cref="ReleaseAsync"/>.</summary>
    public void Dispose()
    {
        if (BeginRelease())
        {
            _provider.Release(this);
        }
    }

    /// <summary>Called by the provider once the release command has finished (whatever its outcome).</summary>
    internal void EndRelease() => _lost.Dispose();

    /// <summary>
    /// Makes a release of this handle from any path (another thread's <see cref="ReleaseAsync"/> or dispose) cancel
    /// <paramref name="work"/>; <see langword="null"/> detaches. Used by <c>RunAsync</c> so its work stops when the lease ends.
    /// </summary>
    internal void CancelOnRelease(CancellationTokenSource? work)
    {
        Volatile.Write(ref _workCancel, work);
        if (work is not null && IsReleased && Interlocked.CompareExchange(ref _workCancel, null, work) == work)
        {
            CancelQuietly(work);
        }
    }

    private TimeSpan MarginFor(TimeSpan ttl)
    {
        var margin = _provider.Options.ExpirySafetyMargin;
        var half = ttl / 2;
        return margin < half ? margin : half;
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            // Callbacks (the work's continuations) run on the thread pool, not inside the releasing caller.
            _ = source.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // The work ended meanwhile.
        }
    }

    private bool BeginRelease()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return false;
        }

        if (Interlocked.Exchange(ref _workCancel, null) is { } work)
        {
            CancelQuietly(work);
        }

        if (_renewal is not null)
        {
            _renewal.Cancel();
            _renewal.Dispose();
        }

        var held = HeldFor;
        _provider.HoldTimes.Record(held);
        _provider.Metrics.Held(held);
        return true;
    }

    private void MarkLost()
    {
        try
        {
            _lost.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Released meanwhile.
        }
    }

    private void MarkLostAsync()
    {
        try
        {
            _ = _lost.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // Released meanwhile.
        }
    }

    private void OnLost()
    {
        if (IsReleased || Interlocked.Exchange(ref _lostCounted, 1) != 0)
        {
            return;
        }

        _provider.Metrics.Lost();
        LockLog.Lost(_provider.Logger, _provider.Name, Resource, FencingToken, OwnerId, HeldFor.TotalSeconds);
    }

    private async Task RenewAsync(CancellationToken stop)
    {
        var options = _provider.Options;
        var interval = options.ExtendInterval ?? TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, Ttl.Ticks / 3));
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(interval, _provider.Time, stop).ConfigureAwait(false);
                var left = options.MaxHoldTime - HeldFor;
                if (left <= TimeSpan.Zero)
                {
                    LockLog.MaxHoldReached(_provider.Logger, _provider.Name, Resource, options.MaxHoldTime.TotalSeconds);
                    return;
                }

                try
                {
                    if (!await ExtendAsync(left < Ttl ? left : Ttl, stop).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                catch (LockBackendException ex)
                {
                    // Keep trying until the lease ends; the lost token fires at expiry if no extension got through.
                    LockLog.ExtendFailed(_provider.Logger, ex, _provider.Name, Resource);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Released.
        }
        catch (ObjectDisposedException)
        {
            // Released while renewing.
        }
    }
}
