namespace Resilience.Pooling;

/// <summary>
/// No connection became available within <see cref="PostgresPoolOptions.AcquireTimeout"/>. The message names the pool,
/// <see cref="MaxSize"/>, the waiters and the longest current hold (a leak hint). The inner exception is a <see cref="TimeoutException"/>.
/// </summary>
public sealed class PoolAcquireTimeoutException : PostgresPoolException
{
    internal PoolAcquireTimeoutException(string poolName, int maxSize, int waiters, TimeSpan longestHold, TimeSpan acquireTimeout)
        : base(poolName, BuildMessage(poolName, maxSize, waiters, longestHold, acquireTimeout), new TimeoutException($"Timed out after {acquireTimeout.TotalSeconds:0.###} s."))
    {
        MaxSize = maxSize;
        Waiters = waiters;
        LongestHold = longestHold;
        AcquireTimeout = acquireTimeout;
    }

    /// <summary>The pool's <see cref="PostgresPoolOptions.MaxSize"/>.</summary>
    public int MaxSize { get; }

    /// <summary>Callers still waiting when this one gave up (not counting this one).</summary>
    public int Waiters { get; }

    /// <summary>How long the oldest current lease had been held.</summary>
    public TimeSpan LongestHold { get; }

    /// <summary>The configured <see cref="PostgresPoolOptions.AcquireTimeout"/>.</summary>
    public TimeSpan AcquireTimeout { get; }

    private static string BuildMessage(string poolName, int maxSize, int waiters, TimeSpan longestHold, TimeSpan acquireTimeout) =>
        $"Pool '{poolName}' had no free connection within AcquireTimeout {acquireTimeout.TotalSeconds:0.###} s: " +
        $"all MaxSize {maxSize} connections were in use, {waiters} other caller(s) were waiting, and the longest current hold was " +
        $"{longestHold.TotalSeconds:0.###} s. A long hold suggests a connection that is not disposed (use 'await using'); " +
        "otherwise shorten the work done per lease, or raise MaxSize only if the fleet budget allows it.";
}
