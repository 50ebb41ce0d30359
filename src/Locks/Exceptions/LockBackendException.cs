namespace Resilience.Locks;

/// <summary>
/// Redis could not be reached or did not answer in time. When an acquire's reply was lost, the library has already sent a
/// compare-and-delete for its own token, so no orphan lock stays behind.
/// </summary>
public sealed class LockBackendException : LockException
{
    internal LockBackendException(string resource, string operation, Exception innerException)
        : base(resource, $"Redis failed during {operation} of the lock on '{resource}': {innerException.Message}", innerException)
    {
        Operation = operation;
    }

    /// <summary>The operation that failed (acquire, extend, force release, read).</summary>
    public string Operation { get; }
}
