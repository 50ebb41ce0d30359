namespace Resilience.Caching;

/// <summary>
/// An entry weighs more than the whole <see cref="CacheOptions.WeightCap"/>, so it can never fit. The write was refused and
/// the cache is unchanged (the previous value under the key, if any, is still there).
/// </summary>
public sealed class EntryTooHeavyException : CacheException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="key">The key of the refused entry, as text.</param>
    /// <param name="weight">The weight the weigher returned.</param>
    /// <param name="weightCap">The cache's weight cap.</param>
    public EntryTooHeavyException(string? key, long weight, long weightCap)
        : base($"The entry '{key}' weighs {weight}, more than the whole WeightCap of {weightCap}; it was refused and the cache is unchanged. Raise WeightCap or store a smaller value.")
    {
        Key = key;
        Weight = weight;
        WeightCap = weightCap;
    }

    /// <summary>The key of the refused entry, as text.</summary>
    public string? Key { get; }

    /// <summary>The weight the weigher returned.</summary>
    public long Weight { get; }

    /// <summary>The cache's weight cap.</summary>
    public long WeightCap { get; }
}
