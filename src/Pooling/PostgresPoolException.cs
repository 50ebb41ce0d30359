namespace Resilience.Pooling;

/// <summary>Base of every exception the pool throws on its own account (its callers' cancellation stays <see cref="OperationCanceledException"/>).</summary>
public abstract class PostgresPoolException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected PostgresPoolException(string poolName, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        PoolName = poolName;
    }

    /// <summary>The pool that threw.</summary>
    public string PoolName { get; }
}
