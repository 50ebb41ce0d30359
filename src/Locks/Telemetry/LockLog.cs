using Microsoft.Extensions.Logging;

namespace Resilience.Locks.Telemetry;

/// <summary>The package's log messages (source-generated).</summary>
internal static partial class LockLog
{
    [LoggerMessage(1, LogLevel.Debug, "Lock '{Name}' acquired '{Resource}' for owner '{OwnerId}' with fencing token {FencingToken} and TTL {TtlSeconds} s.")]
    public static partial void Acquired(ILogger logger, string name, string resource, string ownerId, long fencingToken, double ttlSeconds);

    [LoggerMessage(2, LogLevel.Information, "Lock '{Name}': release of '{Resource}' (fencing token {FencingToken}) found the lease already expired after {HeldSeconds} s; the current holder, if any, was left untouched.")]
    public static partial void ReleasedAfterExpiry(ILogger logger, string name, string resource, long fencingToken, double heldSeconds);

    [LoggerMessage(3, LogLevel.Warning, "Lock '{Name}': release of '{Resource}' (fencing token {FencingToken}) failed within the lease's validity; the TTL will free it.")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, string name, string resource, long fencingToken);

    [LoggerMessage(4, LogLevel.Warning, "Lock '{Name}': the lease on '{Resource}' (fencing token {FencingToken}, owner '{OwnerId}') was lost after {HeldSeconds} s.")]
    public static partial void Lost(ILogger logger, string name, string resource, long fencingToken, string ownerId, double heldSeconds);

    [LoggerMessage(5, LogLevel.Warning, "Lock '{Name}': the reply to an acquire of '{Resource}' was lost; sent a compare-and-delete for its own token.")]
    public static partial void AcquireReplyLost(ILogger logger, Exception exception, string name, string resource);

    [LoggerMessage(6, LogLevel.Warning, "Lock '{Name}': the clean-up of an abandoned acquire of '{Resource}' failed; the TTL will free it.")]
    public static partial void AbandonedCleanupFailed(ILogger logger, Exception exception, string name, string resource);

    [LoggerMessage(7, LogLevel.Information, "Lock '{Name}': owner '{OwnerId}' force-released '{Resource}'.")]
    public static partial void ForceReleased(ILogger logger, string name, string resource, string ownerId);

    [LoggerMessage(8, LogLevel.Warning, "Lock '{Name}': force release of '{Resource}' by '{OwnerId}' refused: the lock is held by another owner.")]
    public static partial void ForceReleaseRefused(ILogger logger, string name, string resource, string ownerId);

    [LoggerMessage(9, LogLevel.Warning, "Lock '{Name}': extending '{Resource}' failed; will retry until the lease ends.")]
    public static partial void ExtendFailed(ILogger logger, Exception exception, string name, string resource);

    [LoggerMessage(10, LogLevel.Warning, "Lock '{Name}': renewal of '{Resource}' stopped at the maximum hold time of {MaxHoldSeconds} s; the lease will expire.")]
    public static partial void MaxHoldReached(ILogger logger, string name, string resource, double maxHoldSeconds);

    [LoggerMessage(11, LogLevel.Warning, "Lock '{Name}': rolling p95 hold time {P95Seconds} s is above the alert threshold of {ThresholdSeconds} s ({Samples} samples).")]
    public static partial void HoldTimeAlertRaised(ILogger logger, string name, double p95Seconds, double thresholdSeconds, int samples);

    [LoggerMessage(12, LogLevel.Information, "Lock '{Name}': rolling p95 hold time {P95Seconds} s is back under the alert threshold of {ThresholdSeconds} s.")]
    public static partial void HoldTimeAlertCleared(ILogger logger, string name, double p95Seconds, double thresholdSeconds);
}
