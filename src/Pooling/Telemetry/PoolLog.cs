using Microsoft.Extensions.Logging;

namespace Resilience.Pooling;

/// <summary>The pool's log messages.</summary>
internal static partial class PoolLog
{
    [LoggerMessage(1, LogLevel.Warning,
        "Pool '{PoolName}': a connection (backend {BackendPid}) has been held for {HeldSeconds:0.###} s, longer than LeakThreshold {ThresholdSeconds:0.###} s; probably not disposed. Rented at: {RentSite}")]
    public static partial void LeakSuspected(ILogger logger, string poolName, int backendPid, double heldSeconds, double thresholdSeconds, string rentSite);

    [LoggerMessage(2, LogLevel.Debug, "Pool '{PoolName}': retired physical connection (backend {BackendPid}) in slot {Slot}, reason {Reason}")]
    public static partial void Recycled(ILogger logger, string poolName, int backendPid, int slot, RecycleReason reason);

    [LoggerMessage(3, LogLevel.Warning, "Pool '{PoolName}': no connection within {TimeoutSeconds:0.###} s (MaxSize {MaxSize}, {Waiters} waiting, longest hold {LongestHoldSeconds:0.###} s)")]
    public static partial void AcquireTimedOut(ILogger logger, string poolName, double timeoutSeconds, int maxSize, int waiters, double longestHoldSeconds);

    [LoggerMessage(4, LogLevel.Information, "Pool '{PoolName}' budget check: {Arithmetic}")]
    public static partial void BudgetChecked(ILogger logger, string poolName, string arithmetic);

    [LoggerMessage(5, LogLevel.Warning, "Pool '{PoolName}': server saturation alert: {Connections}/{MaxConnections} connections ({Utilization:P0}) above {Threshold:P0} since {Since}")]
    public static partial void SaturationAlert(ILogger logger, string poolName, int connections, int maxConnections, double utilization, double threshold, DateTimeOffset? since);

    [LoggerMessage(6, LogLevel.Warning, "Pool '{PoolName}': saturation sample failed")]
    public static partial void SaturationSampleFailed(ILogger logger, string poolName, Exception exception);

    [LoggerMessage(7, LogLevel.Debug, "Pool '{PoolName}': opening a connection in slot {Slot} failed; the slot is free again")]
    public static partial void OpenFailed(ILogger logger, string poolName, int slot, Exception exception);
}
