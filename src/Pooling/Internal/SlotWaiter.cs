using System.Threading.Tasks.Sources;

namespace Resilience.Pooling;

/// <summary>
/// A caller waiting for a slot: one allocation, linked into the pool's FIFO queue. Completed exactly once, under the pool's
/// lock decision: granted a slot, cancelled by its caller, timed out, or failed because the pool was disposed.
/// </summary>
internal sealed class SlotWaiter : IValueTaskSource<PoolSlot>
{
    private ManualResetValueTaskSourceCore<PoolSlot> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;

    private readonly PostgresPool _pool;

    public SlotWaiter(PostgresPool pool, long deadline)
    {
        _pool = pool;
        Deadline = deadline;
    }

    /// <summary>Pool timestamp after which the waiter times out.</summary>
    public long Deadline { get; }

    /// <summary>Pool lock: neighbours in the queue.</summary>
    public SlotWaiter? Next;

    /// <summary>Pool lock: neighbours in the queue.</summary>
    public SlotWaiter? Previous;

    /// <summary>Pool lock: still in the queue (not yet granted, cancelled or timed out).</summary>
    public bool Queued;

    public ValueTask<PoolSlot> Task => new(this, _core.Version);

    public void Register(CancellationToken cancellationToken)
    {
        _registration = cancellationToken.UnsafeRegister(
            static (state, token) =>
            {
                var waiter = (SlotWaiter)state!;
                waiter._pool.CancelWaiter(waiter, token);
            },
            this);
    }

    public void DisposeRegistration() => _registration.Dispose();

    public void Grant(PoolSlot slot) => _core.SetResult(slot);

    public void Fail(Exception exception) => _core.SetException(exception);

    public PoolSlot GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
