using Microsoft.Extensions.Options;

namespace Resilience.Locks;

/// <summary>
/// Checks every rule of <see cref="RedisLockOptions"/> at once and reports all problems together, each naming the
/// setting, its value and the rule.
/// </summary>
public sealed class RedisLockOptionsValidator : IValidateOptions<RedisLockOptions>
{
    private readonly Func<bool> _hasMultiplexer;

    /// <summary>Creates a validator that does not require <see cref="RedisLockOptions.Configuration"/>.</summary>
    public RedisLockOptionsValidator()
        : this(static () => true)
    {
    }

    /// <summary>Creates a validator; <paramref name="hasMultiplexer"/> tells whether the container supplies a connection.</summary>
    /// <param name="hasMultiplexer">Returns <see langword="true"/> when an <c>IConnectionMultiplexer</c> is available.</param>
    public RedisLockOptionsValidator(Func<bool> hasMultiplexer)
    {
        ArgumentNullException.ThrowIfNull(hasMultiplexer);
        _hasMultiplexer = hasMultiplexer;
    }

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RedisLockOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Collect(options, _hasMultiplexer());
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Throws an <see cref="OptionsValidationException"/> listing every problem, or returns.</summary>
    internal static void ThrowIfInvalid(string name, RedisLockOptions options)
    {
        var errors = Collect(options, hasMultiplexer: true);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(name, typeof(RedisLockOptions), errors);
        }
    }

    private static List<string> Collect(RedisLockOptions o, bool hasMultiplexer)
    {
        var errors = new List<string>();
        const string P = nameof(RedisLockOptions) + ".";

        if (string.IsNullOrWhiteSpace(o.KeyPrefix))
        {
            errors.Add($"{P}{nameof(o.KeyPrefix)} must not be empty or whitespace.");
        }
        else if (o.KeyPrefix.Length > RedisLockOptions.MaxKeyPrefixLength)
        {
            errors.Add($"{P}{nameof(o.KeyPrefix)} has {o.KeyPrefix.Length} characters; at most {RedisLockOptions.MaxKeyPrefixLength} are allowed.");
        }
        else if (o.KeyPrefix.AsSpan().IndexOfAny('{', '}', ':') >= 0)
        {
            errors.Add($"{P}{nameof(o.KeyPrefix)} ('{o.KeyPrefix}') must not contain '{{', '}}' or ':': the keys' hash tag is built from it, and ':' separates it from the resource name (a prefix with ':' would let two lock names share keys).");
        }
        else if (InvalidLockArgumentException.IndexOfLoneSurrogate(o.KeyPrefix) is var lone and >= 0)
        {
            errors.Add($"{P}{nameof(o.KeyPrefix)} is not valid UTF-16: a lone surrogate (U+{(int)o.KeyPrefix[lone]:X4}) at index {lone}; Redis keys are UTF-8, where it would become U+FFFD and collide with other prefixes.");
        }

        if (!hasMultiplexer && string.IsNullOrWhiteSpace(o.Configuration))
        {
            errors.Add($"{P}{nameof(o.Configuration)} must be set when no IConnectionMultiplexer is registered in the container.");
        }

        if (o.Database < -1)
        {
            errors.Add($"{P}{nameof(o.Database)} ({o.Database}) must be -1 (the connection's default) or a database number >= 0.");
        }

        if (!Enum.IsDefined(o.TtlMode))
        {
            errors.Add($"{P}{nameof(o.TtlMode)} ({(int)o.TtlMode}) must be Fixed or Adaptive.");
        }

        Positive(errors, P + nameof(o.Ttl), o.Ttl, TimeSpan.FromMilliseconds(1));
        Positive(errors, P + nameof(o.MinTtl), o.MinTtl, TimeSpan.FromMilliseconds(1));
        Positive(errors, P + nameof(o.MaxTtl), o.MaxTtl, TimeSpan.FromMilliseconds(1));
        foreach (var (setting, value) in new[] { (nameof(o.Ttl), o.Ttl), (nameof(o.MaxTtl), o.MaxTtl), (nameof(o.MaxHoldTime), o.MaxHoldTime) })
        {
            if (value > RedisLockOptions.MaxLeaseTtl)
            {
                errors.Add($"{P}{setting} ({value}) must not exceed {RedisLockOptions.MaxLeaseTtl}.");
            }
        }

        if (o.TtlBuffer < TimeSpan.Zero)
        {
            errors.Add($"{P}{nameof(o.TtlBuffer)} ({o.TtlBuffer}) must not be negative.");
        }

        if (o.MinTtl > o.MaxTtl)
        {
            errors.Add($"{P}{nameof(o.MinTtl)} ({o.MinTtl}) must not be greater than {P}{nameof(o.MaxTtl)} ({o.MaxTtl}).");
        }
        else if (o.TtlMode == LockTtlMode.Adaptive && o.Ttl > TimeSpan.Zero && (o.Ttl < o.MinTtl || o.Ttl > o.MaxTtl))
        {
            errors.Add($"{P}{nameof(o.Ttl)} ({o.Ttl}) is the starting TTL in adaptive mode and must lie between {P}{nameof(o.MinTtl)} ({o.MinTtl}) and {P}{nameof(o.MaxTtl)} ({o.MaxTtl}).");
        }

        if (o.HoldTimeWindowCapacity is < 16 or > 65_536)
        {
            errors.Add($"{P}{nameof(o.HoldTimeWindowCapacity)} ({o.HoldTimeWindowCapacity}) must be between 16 and 65536.");
        }

        if (o.AdaptiveMinSamples < 1 || o.AdaptiveMinSamples > o.HoldTimeWindowCapacity)
        {
            errors.Add($"{P}{nameof(o.AdaptiveMinSamples)} ({o.AdaptiveMinSamples}) must be between 1 and {P}{nameof(o.HoldTimeWindowCapacity)} ({o.HoldTimeWindowCapacity}).");
        }

        if (o.HoldTimeAlertMinSamples < 1 || o.HoldTimeAlertMinSamples > o.HoldTimeWindowCapacity)
        {
            errors.Add($"{P}{nameof(o.HoldTimeAlertMinSamples)} ({o.HoldTimeAlertMinSamples}) must be between 1 and {P}{nameof(o.HoldTimeWindowCapacity)} ({o.HoldTimeWindowCapacity}).");
        }

        Positive(errors, P + nameof(o.HoldTimeWindow), o.HoldTimeWindow, TimeSpan.FromSeconds(1));
        Positive(errors, P + nameof(o.HoldTimeAlertThreshold), o.HoldTimeAlertThreshold, TimeSpan.FromMilliseconds(1));
        Positive(errors, P + nameof(o.MaxHoldTime), o.MaxHoldTime, TimeSpan.FromMilliseconds(1));

        if (o.ExtendInterval is { } interval)
        {
            var shortest = o.TtlMode == LockTtlMode.Fixed ? o.Ttl : o.MinTtl;
            if (interval <= TimeSpan.Zero || interval >= shortest)
            {
                errors.Add($"{P}{nameof(o.ExtendInterval)} ({interval}) must be positive and shorter than the shortest lease ({shortest}), or null for a third of each lease.");
            }
        }

        if (o.AcquireTimeout < TimeSpan.Zero)
        {
            errors.Add($"{P}{nameof(o.AcquireTimeout)} ({o.AcquireTimeout}) must not be negative.");
        }

        Positive(errors, P + nameof(o.RetryDelayMin), o.RetryDelayMin, TimeSpan.FromMilliseconds(1));
        if (o.RetryDelayMax < o.RetryDelayMin)
        {
            errors.Add($"{P}{nameof(o.RetryDelayMax)} ({o.RetryDelayMax}) must not be less than {P}{nameof(o.RetryDelayMin)} ({o.RetryDelayMin}).");
        }

        if (o.ReleaseRetryAttempts is < 0 or > 10)
        {
            errors.Add($"{P}{nameof(o.ReleaseRetryAttempts)} ({o.ReleaseRetryAttempts}) must be between 0 and 10.");
        }

        if (o.ExpirySafetyMargin < TimeSpan.Zero || o.ExpirySafetyMargin > TimeSpan.FromSeconds(1))
        {
            errors.Add($"{P}{nameof(o.ExpirySafetyMargin)} ({o.ExpirySafetyMargin}) must be between zero and 1 s.");
        }

        if (o.ReleaseRetryDelay < TimeSpan.Zero)
        {
            errors.Add($"{P}{nameof(o.ReleaseRetryDelay)} ({o.ReleaseRetryDelay}) must not be negative.");
        }

        if (o.MaxCallsInFlight is < 1 or > 64)
        {
            errors.Add($"{P}{nameof(o.MaxCallsInFlight)} ({o.MaxCallsInFlight}) must be between 1 and 64.");
        }

        if (o.MaxCombinedCalls is < 2 or > 1_000)
        {
            errors.Add($"{P}{nameof(o.MaxCombinedCalls)} ({o.MaxCombinedCalls}) must be between 2 and 1000.");
        }

        return errors;
    }

    private static void Positive(List<string> errors, string setting, TimeSpan value, TimeSpan atLeast)
    {
        if (value < atLeast)
        {
            errors.Add($"{setting} ({value}) must be at least {atLeast}.");
        }
    }
}
