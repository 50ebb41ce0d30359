namespace Resilience.Caching;

/// <summary>
/// Limits and expiry of a capped cache. <see cref="Capacity"/> has no default on purpose: an unbounded cache is the
/// failure this package exists to prevent.
/// </summary>
public class CacheOptions
{
    /// <summary>The default <see cref="TimeToLive"/>: 5 minutes.</summary>
    public static readonly TimeSpan DefaultTimeToLive = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The most entries the cache holds at any moment, as any thread can observe. Required, at least 1.
    /// When full, a write evicts the least recently used entry before the new entry becomes visible.
    /// </summary>
    public int Capacity { get; set; }

    /// <summary>
    /// The most total weight the cache holds at any moment (for instance bytes, as returned by the weigher).
    /// <see langword="null"/> (the default) means only <see cref="Capacity"/> limits the cache. Must be positive when set.
    /// </summary>
    public long? WeightCap { get; set; }

    /// <summary>How long an entry lives after it is written. Default 5 minutes; must be positive.</summary>
    public TimeSpan TimeToLive { get; set; } = DefaultTimeToLive;

    /// <summary>
    /// When <see langword="true"/>, every hit renews the entry's <see cref="TimeToLive"/> (sliding expiration).
    /// Default <see langword="false"/>: the entry expires <see cref="TimeToLive"/> after it was written.
    /// </summary>
    public bool SlidingExpiration { get; set; }

    /// <summary>
    /// The cache's name, used as the <c>resilience.cache.name</c> metric tag and in log messages.
    /// Set by dependency injection to the registration name; default <c>"default"</c>.
    /// </summary>
    public string? Name { get; set; }

    internal virtual bool HasWeigher => false;

    /// <summary>Lists every problem with these options; empty when they are valid.</summary>
    /// <returns>One message per problem, naming the property and the rule.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Capacity <= 0)
        {
            errors.Add($"{nameof(Capacity)} must be at least 1 (it is {Capacity}); an unbounded cache is not allowed, set the most entries to keep.");
        }

        if (WeightCap is { } cap && cap <= 0)
        {
            errors.Add($"{nameof(WeightCap)} must be positive when set (it is {cap}); leave it null to limit by {nameof(Capacity)} only.");
        }

        if (TimeToLive <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(TimeToLive)} must be positive (it is {TimeToLive}); the default is {DefaultTimeToLive}.");
        }

        if (WeightCap is not null && !HasWeigher)
        {
            errors.Add($"{nameof(WeightCap)} is set but no weigher is configured; set a weigher that returns each entry's weight.");
        }

        if (Name is { Length: > 200 })
        {
            errors.Add($"{nameof(Name)} must be at most 200 characters (it is {Name.Length}).");
        }

        return errors;
    }
}
