namespace Resilience.Locks;

/// <summary>
/// The lease ended while the work run by <see cref="RedisLockProvider.RunAsync(string, string, Func{RedisLockHandle, CancellationToken, Task}, TimeSpan?, CancellationToken)"/>
/// was still running: it was lost (it expired, or an extension found the key gone or owned by another), or the handle was
/// released from another path (<see cref="WasReleased"/>). Thrown whether the work observed its token and was cancelled, or
/// ignored it and finished: either way its writes may race a newer holder, so its result is not returned.
/// </summary>
public sealed class LockLostException : LockException
{
    internal LockLostException(string resource, long fencingToken, Exception? innerException, bool wasReleased = false)
        : base(resource, wasReleased
            ? $"The lock on '{resource}' (fencing token {fencingToken}) was released through its handle while the work ran; another owner may hold it now, so the work's writes may race a newer holder."
            : $"The lock on '{resource}' (fencing token {fencingToken}) was lost while the work ran; its writes may race a newer holder. " +
              "Raise the TTL or enable AutoExtend if holds are longer than the TTL.", innerException)
    {
        FencingToken = fencingToken;
        WasReleased = wasReleased;
    }

    /// <summary>The fencing token of the lost lease.</summary>
    public long FencingToken { get; }

    /// <summary>
    /// <see langword="true"/> when the lease ended because the handle was released (<see cref="RedisLockHandle.ReleaseAsync"/>
    /// or dispose from another path) while the work ran; <see langword="false"/> when it was lost (expiry, or taken).
    /// </summary>
    public bool WasReleased { get; }
}
