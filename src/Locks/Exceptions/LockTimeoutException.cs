namespace Resilience.Locks;

/// <summary>
/// <see cref="RedisLockProvider.AcquireAsync"/> waited its whole timeout and the lock stayed held. Says who holds it (the
/// owner id, never the token) and when that lease expires.
/// </summary>
public sealed class LockTimeoutException : LockException
{
    internal LockTimeoutException(string resource, TimeSpan timeout, string? holderOwnerId, DateTimeOffset? holderExpiresAt, Exception? innerException = null)
        : base(resource, BuildMessage(resource, timeout, holderOwnerId, holderExpiresAt), innerException ?? new TimeoutException())
    {
        Timeout = timeout;
        HolderOwnerId = holderOwnerId;
        HolderExpiresAt = holderExpiresAt;
    }

    /// <summary>How long the call waited.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The owner id recorded by the current holder, or <see langword="null"/> when it could not be read.</summary>
    public string? HolderOwnerId { get; }

    /// <summary>When the holder's lease expires unless renewed, or <see langword="null"/> when unknown or without expiry.</summary>
    public DateTimeOffset? HolderExpiresAt { get; }

    private static string BuildMessage(string resource, TimeSpan timeout, string? owner, DateTimeOffset? expiresAt)
    {
        var who = owner is null ? "another owner" : $"owner '{owner}'";
        var when = expiresAt is { } at ? $" until {at:O} unless renewed or released" : string.Empty;
        return $"The lock on '{resource}' could not be acquired within {timeout}: it is held by {who}{when}. " +
               "Retry later, pass a longer timeout, or, if that owner is the authenticated caller after a force-quit, call ForceReleaseAsync.";
    }
}
