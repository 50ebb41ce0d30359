namespace Resilience.Locks;

/// <summary>What a release did.</summary>
public enum LockReleaseOutcome
{
    /// <summary>The lease was still ours and the key was deleted.</summary>
    Released = 0,

    /// <summary>
    /// The lease had expired (and possibly been taken by another owner); nothing was deleted. Counted and logged, not an error.
    /// </summary>
    AlreadyExpired = 1,

    /// <summary>Redis kept failing within the remaining validity; logged, and the TTL will free the lock.</summary>
    Failed = 2,

    /// <summary>The handle had already been released; nothing was sent.</summary>
    AlreadyReleased = 3,
}
