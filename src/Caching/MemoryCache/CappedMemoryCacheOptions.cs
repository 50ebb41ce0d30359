namespace Resilience.Caching;

/// <summary>
/// Options of <see cref="CappedMemoryCache"/>. <see cref="CacheOptions.WeightCap"/> caps the sum of
/// <c>ICacheEntry.Size</c> (an entry without a size counts as 1), like <c>MemoryCacheOptions.SizeLimit</c> but strict
/// and admitting the newest entry.
/// </summary>
public sealed class CappedMemoryCacheOptions : CacheOptions
{
    internal override bool HasWeigher => true;
}
