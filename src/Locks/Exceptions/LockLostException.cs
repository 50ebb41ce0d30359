namespace Resilience.Locks;

/// <summary>
/// The work run by <see cref="RedisLockProvider.RunAsync(string, string, Func{RedisLockHandle, CancellationToken, Task}, TimeSpan?, CancellationToken)"/>
/// was cancelled because the lease was lost (it expired, or an extension found the key gone or owned by another).
/// </summary>
public sealed class LockLostException : LockException
{
    internal LockLostException(string resource, long fencingToken, Exception? innerException)
        : base(resource, $"The lock on '{resource}' (fencing token {fencingToken}) was lost while the work ran; its writes may race a newer holder. " +
                         "Raise the TTL or enable AutoExtend if holds are longer than the TTL.", innerException)
    {
        FencingToken = fencingToken;
    }

    /// <summary>The fencing token of the lost lease.</summary>
    public long FencingToken { get; }
}
