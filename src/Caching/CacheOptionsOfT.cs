namespace Resilience.Caching;

/// <summary>Options of an <see cref="LruCache{TKey, TValue}"/>, adding the typed weigher to <see cref="CacheOptions"/>.</summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class CacheOptions<TKey, TValue> : CacheOptions
    where TKey : notnull
{
    /// <summary>
    /// Returns the weight of an entry (for instance its size in bytes); required when <see cref="CacheOptions.WeightCap"/> is set.
    /// Called once per write, before the cache is touched. A negative result is refused with <see cref="InvalidWeightException"/>;
    /// a result above <see cref="CacheOptions.WeightCap"/> with <see cref="EntryTooHeavyException"/>.
    /// Without a weigher every entry weighs 1.
    /// </summary>
    public Func<TKey, TValue, long>? Weigher { get; set; }

    internal override bool HasWeigher => Weigher is not null;
}
