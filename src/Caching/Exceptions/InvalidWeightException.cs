namespace Resilience.Caching;

/// <summary>
/// The weigher (or an <c>ICacheEntry.Size</c>) gave a negative weight. The write was refused and the cache is unchanged.
/// </summary>
public sealed class InvalidWeightException : CacheException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="key">The key of the refused entry, as text.</param>
    /// <param name="weight">The weight that was returned.</param>
    public InvalidWeightException(string? key, long weight)
        : base($"The weigher returned {weight} for the entry '{key}'; a weight must be zero or positive. The write was refused and the cache is unchanged.")
    {
        Key = key;
        Weight = weight;
    }

    /// <summary>The key of the refused entry, as text.</summary>
    public string? Key { get; }

    /// <summary>The weight that was returned.</summary>
    public long Weight { get; }
}
