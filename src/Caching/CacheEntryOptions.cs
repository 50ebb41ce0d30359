namespace Resilience.Caching;

/// <summary>
/// Per-entry expiration that overrides the cache's <see cref="CacheOptions.TimeToLive"/> for one write.
/// When none of the properties is set the cache's defaults apply.
/// </summary>
public sealed class CacheEntryOptions
{
    /// <summary>Expire the entry this long after it is written. Must be positive.</summary>
    public TimeSpan? TimeToLive { get; init; }

    /// <summary>Expire the entry at this point in time (on the cache's <see cref="TimeProvider"/>). A point in the past expires it at once.</summary>
    public DateTimeOffset? AbsoluteExpiration { get; init; }

    /// <summary>
    /// Expire the entry when it has not been read for this long; every hit renews it. Combined with
    /// <see cref="TimeToLive"/> or <see cref="AbsoluteExpiration"/>, the earlier point wins. Must be positive.
    /// </summary>
    public TimeSpan? SlidingExpiration { get; init; }
}
