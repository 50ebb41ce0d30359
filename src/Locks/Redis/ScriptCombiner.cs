using StackExchange.Redis;

namespace Resilience.Locks.Redis;

/// <summary>
/// One caller's request inside a <see cref="ScriptCombiner{TCall}"/>: its part of a shared script call and its own result.
/// The state moves Queued → Taken (a batch claimed it) → Sent (the shared call is on the connection), or Queued → Dropped
/// (the caller cancelled before a batch claimed it: never sent), or Taken → CancelledWhileTaken (the caller cancelled while
/// the batch was being written: the batch cleans up once the call is on the connection).
/// </summary>
internal abstract class CombinedCall
{
    private const int Queued = 0;
    private const int Taken = 1;
    private const int Sent = 2;
    private const int Dropped = 3;
    private const int CancelledWhileTaken = 4;

    private readonly TaskCompletionSource<RedisResult> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;
    private volatile bool _abandoned;

    /// <summary>This caller's part of the reply: the same shape the single-key script returns.</summary>
    public Task<RedisResult> Reply => _reply.Task;

    /// <summary>What the caller must do after its cancellation: nothing (never sent), or clean up.</summary>
    public enum CancelOutcome
    {
        /// <summary>Still queued: removed, never sent.</summary>
        Dropped,

        /// <summary>Claimed by a batch being written: the batch sends the clean-up right behind itself.</summary>
        CleanedUpByBatch,

        /// <summary>Already on the connection: the caller sends the clean-up (it runs after the shared call).</summary>
        CallerCleansUp,
    }

    /// <summary>Called by the caller whose token fired while waiting for <see cref="Reply"/>.</summary>
    public CancelOutcome Cancel()
    {
        _abandoned = true;
        if (Interlocked.CompareExchange(ref _state, Dropped, Queued) == Queued)
        {
            return CancelOutcome.Dropped;
        }

        return Interlocked.CompareExchange(ref _state, CancelledWhileTaken, Taken) == Taken
            ? CancelOutcome.CleanedUpByBatch
            : CancelOutcome.CallerCleansUp;
    }

    /// <summary>A batch claims the call; false when the caller dropped it.</summary>
    internal bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued;

    /// <summary>The shared call is on the connection; false when the caller cancelled meanwhile (the batch must clean up).</summary>
    internal bool MarkSent() => Interlocked.CompareExchange(ref _state, Sent, Taken) == Taken;

    internal void Complete(RedisResult reply) => _reply.TrySetResult(reply);

    internal void Fail(Exception error)
    {
        if (_abandoned)
        {
            // Nobody waits any more; do not leave an unobserved exception behind.
            _reply.TrySetCanceled();
        }
        else
        {
            _reply.TrySetException(error);
        }
    }
}

/// <summary>
/// Turns concurrent single-key script calls of one provider into shared ones ("natural batching", like a database's group
/// commit): while <c>maxInFlight</c> calls are on the connection, further requests queue, and each call that finishes sends
/// everything queued (up to <c>maxPerCall</c>) as one script that runs, per key, exactly the single-key script. A lone caller
/// is sent at once (no timer). Every caller gets its own part of the reply; a failure of the shared call fails every caller
/// in it with that call's exception.
/// </summary>
/// <typeparam name="TCall">The request type.</typeparam>
internal abstract class ScriptCombiner<TCall>
    where TCall : CombinedCall
{
    private readonly Lock _gate = new();
    private readonly Queue<TCall> _queue = new();
    private readonly int _maxInFlight;
    private readonly int _maxPerCall;
    private readonly Action _exit;
    private int _inFlight;
    private long _calls;
    private long _sharedCalls;

    protected ScriptCombiner(IDatabase db, int maxInFlight, int maxPerCall)
    {
        Db = db;
        _maxInFlight = maxInFlight;
        _maxPerCall = maxPerCall;
        _exit = Exit;
    }

    /// <summary>Script calls sent through this combiner, alone or shared (for tests).</summary>
    internal long Calls => Interlocked.Read(ref _calls);

    /// <summary>Script calls that carried more than one caller's request (for tests).</summary>
    internal long SharedCalls => Interlocked.Read(ref _sharedCalls);

    /// <summary>Requests waiting for a free slot, dropped ones included until a batch skips them (for tests).</summary>
    internal int Queued
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    protected IDatabase Db { get; }

    /// <summary>
    /// Takes a slot for a caller that sends its own single-key script right away (no request object); false when every
    /// slot is busy or requests are already waiting (then the caller queues with <see cref="Enqueue"/>). A caller that got
    /// <see langword="true"/> calls <see cref="Exit"/> once its script call has finished, whatever the outcome (or
    /// <see cref="ExitWhenDone"/> if it stops waiting before that).
    /// </summary>
    public bool TryEnterAlone()
    {
        lock (_gate)
        {
            if (_inFlight < _maxInFlight && _queue.Count == 0)
            {
                _inFlight++;
                Interlocked.Increment(ref _calls);
                return true;
            }

            return false;
        }
    }

    /// <summary>Queues a request; sends it at once if a slot became free meanwhile.</summary>
    public void Enqueue(TCall call)
    {
        TCall[]? batch = null;
        lock (_gate)
        {
            _queue.Enqueue(call);
            if (_inFlight < _maxInFlight)
            {
                batch = TakeLocked();
                if (batch is not null)
                {
                    _inFlight++;
                }
            }
        }

        if (batch is not null)
        {
            _ = SendAsync(batch);
        }
    }

    /// <summary>A script call of this combiner finished: the slot sends what is queued, or becomes free.</summary>
    public void Exit()
    {
        TCall[]? batch;
        lock (_gate)
        {
            batch = TakeLocked();
            if (batch is null)
            {
                _inFlight--;
            }
        }

        if (batch is not null)
        {
            _ = SendAsync(batch);
        }
    }

    /// <summary>
    /// Calls <see cref="Exit"/> once <paramref name="pending"/> finishes, whatever its outcome: for a lone caller that stopped
    /// waiting for its call (cancellation). A cached delegate: no continuation task.
    /// </summary>
    public void ExitWhenDone(Task pending) => pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_exit);

    /// <summary>Sends one request with the single-key script, or several with the many-key script.</summary>
    protected abstract Task<RedisResult> Send(TCall[] batch);

    /// <summary>The caller of a claimed request cancelled while the batch was being written: undo its effect, if any.</summary>
    protected abstract void CleanUpCancelled(TCall call);

    private TCall[]? TakeLocked()
    {
        List<TCall>? taken = null;
        while (_queue.Count > 0 && (taken is null || taken.Count < _maxPerCall))
        {
            var call = _queue.Dequeue();
            if (call.TryTake())
            {
                (taken ??= new List<TCall>(Math.Min(_queue.Count + 1, _maxPerCall))).Add(call);
            }
        }

        return taken?.ToArray();
    }

    private async Task SendAsync(TCall[] batch)
    {
        Interlocked.Increment(ref _calls);
        if (batch.Length > 1)
        {
            Interlocked.Increment(ref _sharedCalls);
        }

        Task<RedisResult> pending;
        try
        {
            pending = Send(batch);
        }
        catch (Exception ex)
        {
            foreach (var call in batch)
            {
                call.MarkSent();
                call.Fail(ex);
            }

            Exit();
            return;
        }

        foreach (var call in batch)
        {
            if (!call.MarkSent())
            {
                CleanUpCancelled(call);
            }
        }

        RedisResult reply;
        try
        {
            reply = await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Exit();
            foreach (var call in batch)
            {
                call.Fail(ex);
            }

            return;
        }

        Exit();
        if (batch.Length == 1)
        {
            batch[0].Complete(reply);
            return;
        }

        var parts = (RedisResult[])reply!;
        for (var i = 0; i < batch.Length; i++)
        {
            var part = parts[i];
            if (part.Resp2Type == ResultType.Array && part.Length == 2 && (long)part[0] == -1)
            {
                batch[i].Fail(new RedisServerException(RedisErrorKind.UnknownError, CommandFlags.None, (string?)part[1] ?? "ERR script error"));
            }
            else
            {
                batch[i].Complete(part);
            }
        }
    }
}
