using Microsoft.Extensions.Logging;

namespace Resilience.Caching.Internal;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "An eviction handler of cache '{CacheName}' threw for reason {Reason}; the cache is consistent and the exception was swallowed.")]
    public static partial void EvictionHandlerFailed(ILogger logger, Exception exception, string cacheName, CacheEvictionReason reason);

    [LoggerMessage(2, LogLevel.Warning, "Memory-growth alert '{WatchName}' raised: resident memory grew {GrowthBytes} bytes over {Covered} (threshold {ThresholdBytes}), load {BaselineLoad} -> {Load}.")]
    public static partial void MemoryAlertRaised(ILogger logger, string watchName, long growthBytes, TimeSpan covered, long thresholdBytes, double? baselineLoad, double? load);

    [LoggerMessage(3, LogLevel.Information, "Memory-growth alert '{WatchName}' cleared: growth {GrowthBytes} bytes over {Covered}.")]
    public static partial void MemoryAlertCleared(ILogger logger, string watchName, long growthBytes, TimeSpan covered);

    [LoggerMessage(4, LogLevel.Error, "Memory-growth watch '{WatchName}' failed to take a sample.")]
    public static partial void MemorySampleFailed(ILogger logger, Exception exception, string watchName);
}
