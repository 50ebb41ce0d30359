using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Resilience.Locks.Redis;
using Resilience.Locks.Telemetry;
using StackExchange.Redis;

namespace Resilience.Locks;

/// <summary>
/// One lock name on Redis: acquires per-resource leases (one script, one round trip), releases them by compare-and-delete
/// on every path, force-releases for the authenticated owner, tunes the TTL from observed hold times and watches them.
/// Concurrent acquires (and concurrent releases) share script calls unless <see cref="RedisLockOptions.CombineCalls"/> is
/// off; each caller still has one round trip and its own result. Thread-safe; create one per lock name and keep it for the
/// life of the application.
/// </summary>
public sealed class RedisLockProvider : IDisposable
{
    /// <summary>The name used when none is given.</summary>
    public const string DefaultName = "default";

    private readonly IConnectionMultiplexer _redis;
    private readonly bool _ownsRedis;
    private readonly IDatabase _db;
    private readonly ResiliencePipeline _releaseRetry;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);
    private readonly string _prefix;
    private readonly AcquireCombiner? _acquires;
    private readonly ReleaseCombiner? _releases;
    private Task? _scriptsLoaded;

    /// <summary>Creates a provider on an existing connection. Validates <paramref name="options"/> now.</summary>
    /// <param name="redis">The connection; not disposed by the provider.</param>
    /// <param name="options">The settings; copied, so later changes have no effect.</param>
    /// <param name="timeProvider">All time; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="loggerFactory">Logging; none when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the <c>Resilience.Locks</c> meter; a private meter when <see langword="null"/>.</param>
    /// <param name="name">The lock name (metrics, logs, hold-time statistics); <see cref="DefaultName"/> when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options break a rule; every problem is listed.</exception>
    public RedisLockProvider(
        IConnectionMultiplexer redis,
        RedisLockOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        string? name = null)
        : this(redis, ownsRedis: false, options, timeProvider, loggerFactory, meterFactory, name)
    {
    }

    internal RedisLockProvider(
        IConnectionMultiplexer redis,
        bool ownsRedis,
        RedisLockOptions options,
        TimeProvider? timeProvider,
        ILoggerFactory? loggerFactory,
        IMeterFactory? meterFactory,
        string? name)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        Name = string.IsNullOrWhiteSpace(name) ? DefaultName : name;
        Options = options.Clone();
        RedisLockOptionsValidator.ThrowIfInvalid(Name, Options);
        _redis = redis;
        _ownsRedis = ownsRedis;
        _db = redis.GetDatabase(Options.Database);
        _prefix = Options.KeyPrefix;
        Time = timeProvider ?? TimeProvider.System;
        Logger = (ILogger?)loggerFactory?.CreateLogger("Resilience.Locks.RedisLockProvider") ?? NullLogger.Instance;
        HoldTimes = new HoldTimeWatch(Name, Time, Options, Logger);
        Ttl = new TtlPolicy(Options, HoldTimes, Time);
        Metrics = new LockMetrics(Name, meterFactory, HoldTimes, () => Ttl.Current);
        _releaseRetry = BuildReleaseRetry(Options, Time);
        if (Options.CombineCalls)
        {
            _acquires = new AcquireCombiner(_db, Options.MaxCallsInFlight, Options.MaxCombinedCalls, call => _ = CleanUpAbandonedAsync(call.Resource, call.LockKey, call.Value, call.Ttl));
            _releases = new ReleaseCombiner(_db, Options.MaxCallsInFlight, Options.MaxCombinedCalls);
        }
    }

    /// <summary>The lock name: the tag on metrics and logs, and the scope of the hold-time statistics.</summary>
    public string Name { get; }

    /// <summary>The hold-time watch (the third alert signal): rolling p95 hold time and alert state, sampled on demand.</summary>
    public HoldTimeWatch HoldTimes { get; }

    /// <summary>The TTL the next lease will get (fixed, or adaptive from the hold-time window).</summary>
    public TimeSpan CurrentTtl => Ttl.Current;

    internal RedisLockOptions Options { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal LockMetrics Metrics { get; }

    internal TtlPolicy Ttl { get; }

    internal IDatabase Database => _db;

    /// <summary>The acquire combiner, <see langword="null"/> when <see cref="RedisLockOptions.CombineCalls"/> is off (for tests).</summary>
    internal AcquireCombiner? Acquires => _acquires;

    /// <summary>The release combiner, <see langword="null"/> when <see cref="RedisLockOptions.CombineCalls"/> is off (for tests).</summary>
    internal ReleaseCombiner? Releases => _releases;

    /// <summary>
    /// The Redis key that holds the lease of <paramref name="resource"/>: <c>{KeyPrefix:resource}:lock</c>. Its value is the
    /// secret token followed by the owner id; the fencing counter lives beside it in <c>{KeyPrefix:resource}:fence</c>.
    /// </summary>
    /// <param name="resource">The resource name.</param>
    /// <returns>The key name.</returns>
    public string GetLockKey(string resource)
    {
        InvalidLockArgumentException.ThrowIfInvalidName(resource, nameof(resource));
        return LockKeys.LockKey(_prefix, resource);
    }

    /// <summary>
    /// Tries once to take the lock on <paramref name="resource"/> for <paramref name="ownerId"/>: one script, one round trip.
    /// </summary>
    /// <param name="resource">The resource, e.g. a user id. 1-256 characters, not whitespace, valid UTF-16 (no lone surrogate).</param>
    /// <param name="ownerId">Who takes it, e.g. the authenticated user id; recorded so others can see who holds it. 1-256 characters, not whitespace, valid UTF-16.</param>
    /// <param name="cancellationToken">Cancels the call; if the script was already sent and later succeeds, the lease is released.</param>
    /// <returns>The handle, or <see langword="null"/> when another lease holds the lock. The <see cref="ValueTask{TResult}"/> is
    /// pooled: await it once (or call <see cref="ValueTask{TResult}.AsTask"/> once).</returns>
    /// <exception cref="InvalidLockArgumentException">A name broke a rule; nothing was sent.</exception>
    /// <exception cref="LockBackendException">Redis failed; a compare-and-delete for the own token was sent.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<RedisLockHandle?> TryAcquireAsync(string resource, string ownerId, CancellationToken cancellationToken = default)
    {
        InvalidLockArgumentException.ThrowIfInvalidName(resource, nameof(resource));
        InvalidLockArgumentException.ThrowIfInvalidName(ownerId, nameof(ownerId));
        cancellationToken.ThrowIfCancellationRequested();
        var start = Time.GetTimestamp();
        Attempt attempt;
        try
        {
            attempt = await AttemptAsync(resource, ownerId, cancellationToken).ConfigureAwait(false);
        }
        catch (LockBackendException)
        {
            Metrics.Acquire(LockMetrics.Outcomes.Error, Time.GetElapsedTime(start));
            throw;
        }

        Metrics.Acquire(attempt.Handle is null ? LockMetrics.Outcomes.Held : LockMetrics.Outcomes.Acquired, Time.GetElapsedTime(start));
        return attempt.Handle;
    }

    /// <summary>
    /// Takes the lock on <paramref name="resource"/>, retrying with jittered pauses (and waking early when a lease of this
    /// provider on the same resource is released) until <paramref name="timeout"/>. Transient Redis errors are retried too.
    /// </summary>
    /// <param name="resource">The resource, e.g. a user id. 1-256 characters, not whitespace, valid UTF-16 (no lone surrogate).</param>
    /// <param name="ownerId">Who takes it. 1-256 characters, not whitespace, valid UTF-16 (no lone surrogate).</param>
    /// <param name="timeout">How long to wait; <see cref="RedisLockOptions.AcquireTimeout"/> when <see langword="null"/>; <see cref="TimeSpan.Zero"/> tries once; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait (an <see cref="OperationCanceledException"/>, distinct from the timeout).</param>
    /// <returns>The handle. The <see cref="ValueTask{TResult}"/> is pooled: await it once.</returns>
    /// <exception cref="LockTimeoutException">Still held at the timeout; names the holder's owner id and when its lease expires.</exception>
    /// <exception cref="LockBackendException">Redis kept failing until the timeout.</exception>
    /// <exception cref="InvalidLockArgumentException">An argument broke a rule; nothing was sent.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<RedisLockHandle> AcquireAsync(string resource, string ownerId, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        InvalidLockArgumentException.ThrowIfInvalidName(resource, nameof(resource));
        InvalidLockArgumentException.ThrowIfInvalidName(ownerId, nameof(ownerId));
        var wait = timeout ?? Options.AcquireTimeout;
        if (wait < TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan)
        {
            throw new InvalidLockArgumentException(nameof(timeout), $"it is {wait}; it must be zero or positive, or Timeout.InfiniteTimeSpan.", resource);
        }

        var start = Time.GetTimestamp();
        string? holder = null;
        TimeSpan? holderTtl = null;
        while (true)
        {
            LockBackendException? error = null;
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var attempt = await AttemptAsync(resource, ownerId, cancellationToken).ConfigureAwait(false);
                if (attempt.Handle is not null)
                {
                    Metrics.Acquire(LockMetrics.Outcomes.Acquired, Time.GetElapsedTime(start));
                    return attempt.Handle;
                }

                holder = attempt.Holder;
                holderTtl = attempt.HolderTtl;
            }
            catch (LockBackendException ex)
            {
                error = ex;
            }

            var elapsed = Time.GetElapsedTime(start);
            var remaining = wait == Timeout.InfiniteTimeSpan ? TimeSpan.MaxValue : wait - elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                if (error is not null)
                {
                    Metrics.Acquire(LockMetrics.Outcomes.Error, elapsed);
                    throw error;
                }

                Metrics.Acquire(LockMetrics.Outcomes.Timeout, elapsed);
                throw new LockTimeoutException(resource, wait, holder, holderTtl is { } t ? Time.GetUtcNow() + t : null);
            }

            var delay = NextRetryDelay();
            if (error is null && holderTtl is { } ttlLeft && ttlLeft < delay)
            {
                delay = ttlLeft + TimeSpan.FromMilliseconds(1);
            }

            await WaitForRetryAsync(resource, delay < remaining ? delay : remaining, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Acquires the lock (waiting up to <paramref name="timeout"/>), runs <paramref name="work"/> with a token that fires on the
    /// caller's cancellation, when the lease is lost, or when the handle is released from another path; and releases on every
    /// path: success, exception, cancellation, loss.
    /// </summary>
    /// <param name="resource">The resource.</param>
    /// <param name="ownerId">The owner id.</param>
    /// <param name="work">The work; receives the handle (for its fencing token) and the linked token.</param>
    /// <param name="timeout">How long to wait for the lock; see <see cref="AcquireAsync"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes after the work and the release.</returns>
    /// <exception cref="LockLostException">The lease was lost or released elsewhere before the work finished (whether or not the work observed its token).</exception>
    /// <exception cref="LockTimeoutException">The lock stayed held until the timeout; the work did not run.</exception>
    public Task RunAsync(string resource, string ownerId, Func<RedisLockHandle, CancellationToken, Task> work, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunAsync<bool>(resource, ownerId, async (handle, token) =>
        {
            await work(handle, token).ConfigureAwait(false);
            return true;
        }, timeout, cancellationToken);
    }

    /// <summary>
    /// Acquires the lock, runs <paramref name="work"/> under it and returns its result, releasing on every path.
    /// See <see cref="RunAsync(string, string, Func{RedisLockHandle, CancellationToken, Task}, TimeSpan?, CancellationToken)"/>.
    /// </summary>
    /// <typeparam name="T">The work's result.</typeparam>
    /// <param name="resource">The resource.</param>
    /// <param name="ownerId">The owner id.</param>
    /// <param name="work">The work; receives the handle and a token that fires on the caller's cancellation, on loss and on a release from another path.</param>
    /// <param name="timeout">How long to wait for the lock; see <see cref="AcquireAsync"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The work's result.</returns>
    /// <exception cref="LockLostException">The lease was lost or released elsewhere before the work finished (whether or not the work observed its token).</exception>
    /// <exception cref="LockTimeoutException">The lock stayed held until the timeout; the work did not run.</exception>
    public async Task<T> RunAsync<T>(string resource, string ownerId, Func<RedisLockHandle, CancellationToken, Task<T>> work, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        var handle = await AcquireAsync(resource, ownerId, timeout, cancellationToken).ConfigureAwait(false);
        await using (handle.ConfigureAwait(false))
        {
            T result;
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, handle.LostToken))
            {
                handle.CancelOnRelease(linked);
                try
                {
                    result = await work(handle, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested && (handle.IsReleased || handle.IsLost))
                {
                    throw new LockLostException(resource, handle.FencingToken, ex, wasReleased: !handle.LostToken.IsCancellationRequested);
                }
                finally
                {
                    handle.CancelOnRelease(null);
                }
            }

            // The work finished, but if the lease ended before it did (released elsewhere, or lost), its writes were not
            // protected: report that rather than hand back a result computed while another owner may have held the lock.
            if (handle.IsReleased || handle.IsLost)
            {
                throw new LockLostException(resource, handle.FencingToken, null, wasReleased: !handle.LostToken.IsCancellationRequested);
            }

            return result;
        }
    }

    /// <summary>
    /// Deletes the lock on <paramref name="resource"/> only if its recorded owner id equals <paramref name="authenticatedOwnerId"/>
    /// (e.g. after that user force-quit and signed in again). Any other owner is refused (logged and counted).
    /// </summary>
    /// <param name="resource">The resource.</param>
    /// <param name="authenticatedOwnerId">The owner id the caller has authenticated. Never pass an unauthenticated value.</param>
    /// <param name="cancellationToken">Cancels the wait for the reply.</param>
    /// <returns><see langword="true"/> when it released the lock; <see langword="false"/> when it was free or held by another owner.</returns>
    /// <exception cref="InvalidLockArgumentException">A name broke a rule; nothing was sent.</exception>
    /// <exception cref="LockBackendException">Redis failed.</exception>
    public async Task<bool> ForceReleaseAsync(string resource, string authenticatedOwnerId, CancellationToken cancellationToken = default)
    {
        InvalidLockArgumentException.ThrowIfInvalidName(resource, nameof(resource));
        InvalidLockArgumentException.ThrowIfInvalidName(authenticatedOwnerId, nameof(authenticatedOwnerId));
        cancellationToken.ThrowIfCancellationRequested();
        long result;
        try
        {
            result = (long)await _db.ScriptEvaluateAsync(LockScripts.ForceRelease, [LockKeys.LockKey(_prefix, resource)], [authenticatedOwnerId])
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw new LockBackendException(resource, "force release", ex);
        }

        switch (result)
        {
            case 1:
                LockLog.ForceReleased(Logger, Name, resource, authenticatedOwnerId);
                Metrics.ForceRelease(LockMetrics.Outcomes.Released);
                SignalReleased(resource);
                return true;
            case -1:
                LockLog.ForceReleaseRefused(Logger, Name, resource, authenticatedOwnerId);
                Metrics.ForceRelease(LockMetrics.Outcomes.Refused);
                return false;
            default:
                Metrics.ForceRelease(LockMetrics.Outcomes.NotHeld);
                return false;
        }
    }

    /// <summary>Reads who holds <paramref name="resource"/> now (never the token). One round trip.</summary>
    /// <param name="resource">The resource.</param>
    /// <param name="cancellationToken">Cancels the wait for the reply.</param>
    /// <returns>The holder, or <see langword="null"/> when the lock is free.</returns>
    /// <exception cref="LockBackendException">Redis failed.</exception>
    public async Task<LockInfo?> GetLockInfoAsync(string resource, CancellationToken cancellationToken = default)
    {
        InvalidLockArgumentException.ThrowIfInvalidName(resource, nameof(resource));
        RedisResult reply;
        try
        {
            reply = await _db.ScriptEvaluateAsync(LockScripts.Info, LockKeys.Both(_prefix, resource)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw new LockBackendException(resource, "read", ex);
        }

        var parts = (RedisResult[])reply!;
        var owner = (string?)parts[0];
        var pttl = (long)parts[1];
        if (pttl == -2 || string.IsNullOrEmpty(owner))
        {
            return null;
        }

        return new LockInfo(resource, owner, pttl >= 0 ? TimeSpan.FromMilliseconds(pttl) : null, (long)parts[2]);
    }

    /// <summary>Whether <paramref name="resource"/> is locked now. One round trip.</summary>
    /// <param name="resource">The resource.</param>
    /// <param name="cancellationToken">Cancels the wait for the reply.</param>
    /// <returns><see langword="true"/> when a lease holds it.</returns>
    public async Task<bool> IsLockedAsync(string resource, CancellationToken cancellationToken = default) =>
        await GetLockInfoAsync(resource, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>
    /// Lists the resources of this lock name that are held right now, by scanning every primary for
    /// <c>{KeyPrefix:*}:lock</c> keys (SCAN, not KEYS). Meant for drills, tests and operations ("is anything left held?"),
    /// not for hot paths: its cost grows with the size of the keyspace.
    /// </summary>
    /// <param name="cancellationToken">Stops the scan.</param>
    /// <returns>The held resources, in no particular order.</returns>
    /// <exception cref="LockBackendException">Redis failed.</exception>
    public async Task<IReadOnlyList<string>> GetHeldResourcesAsync(CancellationToken cancellationToken = default)
    {
        var pattern = "{" + EscapeGlob(_prefix) + ":*}:lock";
        var head = _prefix.Length + 2;
        var held = new List<string>();
        try
        {
            foreach (var endpoint in _redis.GetEndPoints())
            {
                var server = _redis.GetServer(endpoint);
                if (server.IsReplica)
                {
                    continue;
                }

                await foreach (var key in server.KeysAsync(Options.Database, pattern, pageSize: 500).WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                    var name = (string)key!;
                    held.Add(name[head..^"}:lock".Length]);
                }
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw new LockBackendException("*", "scan", ex);
        }

        return held;
    }

    /// <summary>Disposes the meter it created and the connection it created from <see cref="RedisLockOptions.Configuration"/>.</summary>
    public void Dispose()
    {
        Metrics.Dispose();
        if (_ownsRedis)
        {
            _redis.Dispose();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<LockReleaseOutcome> ReleaseAsync(RedisLockHandle handle, CancellationToken cancellationToken)
    {
        long result;
        try
        {
            try
            {
                var combiner = CombinerFor(_releases, handle.ScriptKeys[0]);
                if (combiner is null || combiner.TryEnterAlone())
                {
                    try
                    {
                        result = (long)await _db.ScriptEvaluateAsync(LockScripts.Release, handle.ScriptKeys, handle.ScriptArgs).ConfigureAwait(false);
                    }
                    finally
                    {
                        // The reply is in (or the call failed): the slot sends what queued meanwhile. Retries run outside it.
                        combiner?.Exit();
                    }
                }
                else
                {
                    var call = new ReleaseCall(handle.ScriptKeys[0], handle.ScriptArgs[0]);
                    combiner.Enqueue(call);
                    try
                    {
                        result = (long)await call.Reply.ConfigureAwait(false);
                    }
                    catch (Exception ex) when (IsSharedCallRefused(ex))
                    {
                        // Refused as a whole before it ran (a cluster that still looked standalone): release alone instead.
                        result = (long)await _db.ScriptEvaluateAsync(LockScripts.Release, handle.ScriptKeys, handle.ScriptArgs).ConfigureAwait(false);
                    }
                }
            }
            catch (Exception ex) when (ShouldRetryRelease(ex, handle) && !cancellationToken.IsCancellationRequested)
            {
                using var budget = new CancellationTokenSource(handle.RemainingValidity, Time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(budget.Token, cancellationToken);
                result = await _releaseRetry.ExecuteAsync(
                    static async (state, token) => (long)await state.Db.ScriptEvaluateAsync(LockScripts.Release, state.Keys, state.Args)
                        .WaitAsync(token).ConfigureAwait(false),
                    (Db: _db, Keys: handle.ScriptKeys, Args: handle.ScriptArgs),
                    linked.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsReleaseFailure(ex))
        {
            return ReleaseFailed(handle, ex);
        }
        finally
        {
            handle.EndRelease();
        }

        return Released(handle, result);
    }

    internal LockReleaseOutcome Release(RedisLockHandle handle)
    {
        long result;
        try
        {
            try
            {
                result = (long)_db.ScriptEvaluate(LockScripts.Release, handle.ScriptKeys, handle.ScriptArgs);
            }
            catch (Exception ex) when (ShouldRetryRelease(ex, handle))
            {
                using var budget = new CancellationTokenSource(handle.RemainingValidity, Time);
                result = _releaseRetry.Execute(
                    static (state, _) => (long)state.Db.ScriptEvaluate(LockScripts.Release, state.Keys, state.Args),
                    (Db: _db, Keys: handle.ScriptKeys, Args: handle.ScriptArgs),
                    budget.Token);
            }
        }
        catch (Exception ex) when (IsReleaseFailure(ex))
        {
            return ReleaseFailed(handle, ex);
        }
        finally
        {
            handle.EndRelease();
        }

        return Released(handle, result);
    }

    internal void SignalReleased(string resource)
    {
        if (!_waiters.IsEmpty && _waiters.TryRemove(resource, out var waiters))
        {
            waiters.TrySetResult();
        }
    }

    /// <summary>Whether a failed release script is worth retrying: a transient error, retries on, and the lease still valid.</summary>
    private bool ShouldRetryRelease(Exception ex, RedisLockHandle handle) =>
        IsTransient(ex) && Options.ReleaseRetryAttempts > 0 && handle.RemainingValidity > TimeSpan.Zero;

    /// <summary>What ends a release as <see cref="LockReleaseOutcome.Failed"/> rather than throwing to the caller.</summary>
    private static bool IsReleaseFailure(Exception ex) => ex is RedisException or OperationCanceledException or TimeoutException or RedisCommandException;

    /// <summary>
    /// A shared script call refused as a whole before any of it ran: by the client (keys of several slots) or by a cluster
    /// node (<c>CROSSSLOT</c>). Only a multiplexer that did not yet know it talks to a cluster sends such a call.
    /// </summary>
    private static bool IsSharedCallRefused(Exception ex) =>
        ex is RedisCommandException || (ex is RedisServerException server && server.Message.StartsWith("CROSSSLOT", StringComparison.Ordinal));

    private LockReleaseOutcome ReleaseFailed(RedisLockHandle handle, Exception ex)
    {
        LockLog.ReleaseFailed(Logger, ex, Name, handle.Resource, handle.FencingToken);
        return LockReleaseOutcome.Failed;
    }

    private LockReleaseOutcome Released(RedisLockHandle handle, long result)
    {
        if (result == 1)
        {
            SignalReleased(handle.Resource);
            return LockReleaseOutcome.Released;
        }

        Metrics.ReleaseAfterExpiry();
        LockLog.ReleasedAfterExpiry(Logger, Name, handle.Resource, handle.FencingToken, handle.HeldFor.TotalSeconds);
        return LockReleaseOutcome.AlreadyExpired;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Attempt> AttemptAsync(string resource, string ownerId, CancellationToken cancellationToken)
    {
        if (_scriptsLoaded is null)
        {
            _ = EnsureScriptsLoaded();
        }

        var ttl = Ttl.Current;
        var lockKey = LockKeys.LockKey(_prefix, resource);
        RedisKey[] keys = [lockKey, LockKeys.FenceKey(_prefix, resource)];
        var value = LockKeys.NewValue(ownerId);
        RedisValue[] args = [value, (long)Math.Ceiling(ttl.TotalMilliseconds)];
        var sentAt = Time.GetTimestamp();
        var sentAtUtc = Time.GetUtcNow();
        AcquireCall? call = null;
        AcquireCombiner? slot = null;
        Task<RedisResult>? pending = null;
        RedisResult reply;
        try
        {
            var combiner = CombinerFor(_acquires, keys[0]);
            if (combiner is null || combiner.TryEnterAlone())
            {
                slot = combiner;
                pending = _db.ScriptEvaluateAsync(LockScripts.Acquire, keys, args);
            }
            else
            {
                // Every slot is busy: wait for the next shared call (it carries this request with the others queued).
                call = new AcquireCall(resource, lockKey, value, ttl, keys, args);
                combiner.Enqueue(call);
                pending = call.Reply;
            }

            try
            {
                reply = cancellationToken.CanBeCanceled
                    ? await pending.WaitAsync(cancellationToken).ConfigureAwait(false)
                    : await pending.ConfigureAwait(false);
            }
            catch (Exception ex) when (call is not null && IsSharedCallRefused(ex))
            {
                // The shared call was refused as a whole before any of it ran (a cluster that still looked like a standalone
                // server): nothing was granted, so this request goes alone, as it would with combining off.
                call = null;
                pending = _db.ScriptEvaluateAsync(LockScripts.Acquire, keys, args);
                reply = cancellationToken.CanBeCanceled
                    ? await pending.WaitAsync(cancellationToken).ConfigureAwait(false)
                    : await pending.ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // A request still queued is dropped (never sent). A script already sent may still run: release the lease if it
            // turns out to have been granted (queued on the connection behind it, so it runs after it on the server).
            if (call is null || call.Cancel() == CombinedCall.CancelOutcome.CallerCleansUp)
            {
                _ = CleanUpAbandonedAsync(resource, lockKey, value, ttl);
            }

            throw;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or RedisCommandException)
        {
            // The reply was lost (timeout) or the connection dropped after sending: the lease may exist. The clean-up command is
            // queued on the connection before this method returns, behind the acquire, so it runs after it on the server.
            LockLog.AcquireReplyLost(Logger, ex, Name, resource);
            _ = CleanUpAbandonedAsync(resource, lockKey, value, ttl);
            throw new LockBackendException(resource, "acquire", ex);
        }
        finally
        {
            // A lone call frees its combiner slot once its reply is in, so what queued meanwhile goes out as one call (freed
            // by the caller's own continuation: no second continuation on the reply). A caller that stopped waiting (its
            // cancellation) frees the slot when the call finishes.
            if (slot is not null)
            {
                if (pending is null || pending.IsCompleted)
                {
                    slot.Exit();
                }
                else
                {
                    slot.ExitWhenDone(pending);
                }
            }
        }

        var parts = (RedisResult[])reply!;
        if ((long)parts[0] == 1)
        {
            var handle = new RedisLockHandle(this, resource, ownerId, lockKey, value, keys, args, (long)parts[1], ttl, sentAt, sentAtUtc);
            if (Logger.IsEnabled(LogLevel.Debug))
            {
                LockLog.Acquired(Logger, Name, resource, ownerId, handle.FencingToken, ttl.TotalSeconds);
            }

            return new Attempt(handle, null, null);
        }

        var holder = (string?)parts[1];
        var pttl = (long)parts[2];
        return new Attempt(null, string.IsNullOrEmpty(holder) ? null : holder, pttl >= 0 ? TimeSpan.FromMilliseconds(pttl) : null);
    }

    /// <summary>
    /// The combiner to use for a call on <paramref name="key"/>, or <see langword="null"/> to send it alone: combining is
    /// off, or the multiplexer is not a standalone server (a cluster computes a hash slot; a script may touch only one).
    /// </summary>
    private TCombiner? CombinerFor<TCombiner>(TCombiner? combiner, RedisKey key)
        where TCombiner : class =>
        combiner is not null && (CombineOnAnyServer || _redis.HashSlot(key) < 0) ? combiner : null;

    /// <summary>
    /// For tests: combine even on a cluster, as a multiplexer does in the moment before it learns that it talks to one.
    /// </summary>
    internal bool CombineOnAnyServer { get; set; }

    /// <summary>
    /// Loads the hot scripts once per server so StackExchange.Redis sends EVALSHA (a 40-byte hash) instead of the script
    /// text; it falls back to EVAL by itself after a NOSCRIPT (e.g. a restarted Redis). Best effort: failure only means EVAL.
    /// </summary>
    internal Task EnsureScriptsLoaded()
    {
        var loading = Volatile.Read(ref _scriptsLoaded);
        if (loading is not null)
        {
            return loading;
        }

        var started = LoadScriptsAsync();
        return Interlocked.CompareExchange(ref _scriptsLoaded, started, null) ?? started;
    }

    private async Task LoadScriptsAsync()
    {
        await Task.Yield();
        try
        {
            foreach (var endpoint in _redis.GetEndPoints())
            {
                var server = _redis.GetServer(endpoint);
                if (!server.IsConnected || server.IsReplica)
                {
                    continue;
                }

                await server.ScriptLoadAsync(LockScripts.Acquire).ConfigureAwait(false);
                await server.ScriptLoadAsync(LockScripts.Release).ConfigureAwait(false);
                await server.ScriptLoadAsync(LockScripts.Extend).ConfigureAwait(false);
                if (Options.CombineCalls)
                {
                    await server.ScriptLoadAsync(LockScripts.AcquireMany).ConfigureAwait(false);
                    await server.ScriptLoadAsync(LockScripts.ReleaseMany).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or NotSupportedException or InvalidOperationException)
        {
            // Scripts keep working through EVAL.
        }
    }

    private async Task CleanUpAbandonedAsync(string resource, string lockKey, string value, TimeSpan budget)
    {
        try
        {
            using var cts = new CancellationTokenSource(budget, Time);
            await _releaseRetry.ExecuteAsync(
                static async (state, token) => await state.Db.ScriptEvaluateAsync(LockScripts.Release, [state.Key], [state.Value])
                    .WaitAsync(token).ConfigureAwait(false),
                (Db: _db, Key: (RedisKey)lockKey, Value: (RedisValue)value),
                cts.Token).ConfigureAwait(false);
            SignalReleased(resource);
        }
        catch (Exception ex) when (ex is RedisException or OperationCanceledException or TimeoutException)
        {
            LockLog.AbandonedCleanupFailed(Logger, ex, Name, resource);
        }
    }

    private async Task WaitForRetryAsync(string resource, TimeSpan delay, CancellationToken cancellationToken)
    {
        var released = _waiters.GetOrAdd(resource, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            await Task.WhenAny(Task.Delay(delay, Time, cancellationToken), released.Task).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            if (!released.Task.IsCompleted)
            {
                _waiters.TryRemove(new KeyValuePair<string, TaskCompletionSource>(resource, released));
            }
        }
    }

    private TimeSpan NextRetryDelay()
    {
        var min = Options.RetryDelayMin.Ticks;
        var max = Options.RetryDelayMax.Ticks;
        return TimeSpan.FromTicks(max > min ? Random.Shared.NextInt64(min, max + 1) : min);
    }

    private static string EscapeGlob(string value)
    {
        var builder = new System.Text.StringBuilder(value.Length + 4);
        foreach (var c in value)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    private static bool IsTransient(Exception ex) =>
        ex is RedisConnectionException or RedisTimeoutException
        || (ex is RedisServerException server && (server.Message.StartsWith("LOADING", StringComparison.Ordinal)
                                                   || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)));

    private static ResiliencePipeline BuildReleaseRetry(RedisLockOptions options, TimeProvider time)
    {
        // The first attempt runs outside the pipeline (no allocation on the happy path); the pipeline's own first attempt is
        // the first retry, so it adds ReleaseRetryAttempts - 1 more.
        if (options.ReleaseRetryAttempts <= 1)
        {
            return ResiliencePipeline.Empty;
        }

        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                MaxRetryAttempts = options.ReleaseRetryAttempts - 1,
                Delay = options.ReleaseRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            })
            .Build();
    }

    private readonly record struct Attempt(RedisLockHandle? Handle, string? Holder, TimeSpan? HolderTtl);
}
