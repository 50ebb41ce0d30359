namespace Resilience.Scoring;

/// <summary>
/// Turns concurrent single applies into shared round trips ("natural batching", as a database's group commit does):
/// while <see cref="ScoringOptions.MaxConcurrentApplyBatches"/> statements are in flight, further events wait in a queue,
/// and the next free slot sends everything queued as one batch. Nothing waits for a timer, so a lone caller goes straight
/// to the database. Each event still commits atomically with its projection change and each caller gets its own result
/// or its own exception: when a shared batch fails on one event (a version conflict, a reused id, a bound), the statement
/// rolls back as a whole and its halves are sent again the same way until the failing event is applied on its own
/// (<see cref="SendSharedAsync"/>). A failure no event caused (the connection, the server, the data source) fails every
/// caller of that statement with that exception, as it would a lone caller; nothing is sent again.
/// </summary>
internal sealed class ApplyCombiner
{
    /// <summary>A failed shared statement of at most this many events is applied again one event at a time.</summary>
    internal const int AloneBelow = 4;

    private readonly Func<IReadOnlyList<ScoreEvent>, Task<ScoreResult[]>> _applyMany;
    private readonly Func<ScoreEvent, Task<ScoreResult>> _applyOne;
    private readonly Action<int> _batchSent;
    private readonly Func<Exception, bool> _failedOnAnEvent;
    private readonly Action<int, Exception> _replaying;
    private readonly int _maxBatch;
    private readonly int _maxInFlight;
    private readonly Lock _gate = new();
    private readonly Queue<Pending> _queue = new();
    private int _inFlight;
    private long _sharedBatches;

    public ApplyCombiner(
        Func<IReadOnlyList<ScoreEvent>, Task<ScoreResult[]>> applyMany,
        Func<ScoreEvent, Task<ScoreResult>> applyOne,
        Action<int> batchSent,
        Func<Exception, bool> failedOnAnEvent,
        Action<int, Exception> replaying,
        int maxBatch,
        int maxInFlight)
    {
        _failedOnAnEvent = failedOnAnEvent;
        _replaying = replaying;
        _applyMany = applyMany;
        _applyOne = applyOne;
        _batchSent = batchSent;
        _maxBatch = maxBatch;
        _maxInFlight = maxInFlight;
    }

    /// <summary>Events waiting for a free slot, cancelled ones included until a batch skips them (for tests).</summary>
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

    /// <summary>Statement slots taken (for tests): never above the limit, and 0 once every drain has finished.</summary>
    internal int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>Round trips that carried more than one caller's event (for tests).</summary>
    internal long SharedBatches => Interlocked.Read(ref _sharedBatches);

    /// <summary>
    /// Applies one validated event. If <paramref name="cancellationToken"/> fires while the event is still queued, it is
    /// dropped and never written; once it has been sent, the caller stops waiting but the statement runs to its end (the
    /// event may be applied: retrying with the same event id is safe).
    /// </summary>
    public async Task<ScoreResult> ApplyAsync(ScoreEvent scoreEvent, CancellationToken cancellationToken)
    {
        var pending = new Pending(scoreEvent);
        bool lead;
        lock (_gate)
        {
            _queue.Enqueue(pending);
            lead = _inFlight < _maxInFlight;
            if (lead)
            {
                _inFlight++;
            }
        }

        if (lead)
        {
            // This caller starts the drain itself: it takes the queue (its own event included) and sends it before its first
            // await, so a lone caller goes straight to the database. The drain then goes on sending whatever queued meanwhile,
            // while every caller, this one too, waits only for its own result and can stop waiting when cancelled.
            _ = DrainAsync();
        }

        if (!cancellationToken.CanBeCanceled)
        {
            return await pending.Result.Task.ConfigureAwait(false);
        }

        try
        {
            return await pending.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                // Still queued: mark it so that no batch takes it; it is never written.
                pending.Cancelled = !pending.Taken;
            }

            throw;
        }
    }

    /// <summary>Sends batches until the queue is empty, then gives the slot back. Never throws.</summary>
    private async Task DrainAsync()
    {
        do
        {
            await SendNextBatchAsync().ConfigureAwait(false);
        }
        while (KeepSlotForQueued());
    }

    /// <summary>Keeps the drain's in-flight slot (returns true) when events are queued; otherwise releases it.</summary>
    private bool KeepSlotForQueued()
    {
        lock (_gate)
        {
            if (_queue.Count > 0)
            {
                return true;
            }

            _inFlight--;
            return false;
        }
    }

    private async Task SendNextBatchAsync()
    {
        var batch = new List<Pending>();
        lock (_gate)
        {
            while (batch.Count < _maxBatch && _queue.TryDequeue(out var next))
            {
                if (!next.Cancelled)
                {
                    next.Taken = true;
                    batch.Add(next);
                }
            }
        }

        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            await SendAsync(batch).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Nothing may escape the drain (its slot would never come back and these callers would wait forever), not even
            // a throwing logger: whoever has no outcome yet gets this exception.
            FailAll(batch, ex);
        }
    }

    private async Task SendAsync(List<Pending> batch)
    {
        _batchSent(batch.Count);
        if (batch.Count == 1)
        {
            await ApplyAloneAsync(batch[0]).ConfigureAwait(false);
            return;
        }

        await SendSharedAsync(batch, 0, batch.Count, first: true).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <c>batch[start .. start + count)</c> as one statement. When an event makes it fail, the statement rolled back as a
    /// whole: its first half and then its second half are sent again the same way, and a part of at most
    /// <see cref="AloneBelow"/> events is applied one event at a time, in arrival order. A statement that succeeds gives its
    /// events exactly what one-at-a-time applies in that order give, so every caller still gets its own outcome, and one bad
    /// event among n costs about 2 log2(n) statements instead of n (under contention, big batches with one conflict are common).
    /// </summary>
    private async Task SendSharedAsync(List<Pending> batch, int start, int count, bool first)
    {
        Interlocked.Increment(ref _sharedBatches);
        ScoreResult[] results;
        try
        {
            results = await _applyMany([.. batch.Skip(start).Take(count).Select(p => p.Event)]).ConfigureAwait(false);
        }
        catch (Exception ex) when (_failedOnAnEvent(ex))
        {
            // One event made the statement fail and roll back: nothing of it was written.
            if (first)
            {
                Report(count, ex);
            }

            if (count <= AloneBelow)
            {
                for (var i = start; i < start + count; i++)
                {
                    await ApplyAloneAsync(batch[i]).ConfigureAwait(false);
                }

                return;
            }

            var half = count / 2;
            await SendSharedAsync(batch, start, half, first: false).ConfigureAwait(false);
            await SendSharedAsync(batch, start + half, count - half, first: false).ConfigureAwait(false);
            return;
        }
        catch (Exception ex)
        {
            // The connection or the server failed (a killed backend, a timeout, a disposed data source): no event is to blame,
            // so every caller gets that failure, as each would alone. Sending the events again one by one would hit a failing
            // server once per event while the callers wait. Committed or not, a retry with the same event id is safe.
            FailAll(batch.GetRange(start, count), ex);
            return;
        }

        for (var i = 0; i < count; i++)
        {
            batch[start + i].Result.TrySetResult(results[i]);
        }
    }

    private void Report(int count, Exception ex)
    {
        try
        {
            _replaying(count, ex);
        }
        catch (Exception)
        {
            // A throwing logger must not cost these callers the outcomes they would get alone.
        }
    }

    private static void FailAll(List<Pending> batch, Exception ex)
    {
        foreach (var pending in batch)
        {
            pending.Result.TrySetException(ex);
        }
    }

    private async Task ApplyAloneAsync(Pending pending)
    {
        try
        {
            pending.Result.TrySetResult(await _applyOne(pending.Event).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            pending.Result.TrySetException(ex);
        }
    }

    private sealed class Pending(ScoreEvent scoreEvent)
    {
        public ScoreEvent Event { get; } = scoreEvent;

        public TaskCompletionSource<ScoreResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Guarded by the combiner's gate.</summary>
        public bool Taken { get; set; }

        /// <summary>Guarded by the combiner's gate.</summary>
        public bool Cancelled { get; set; }
    }
}
