namespace Resilience.Locks;

/// <summary>A call was given a value the lock cannot accept; the message names the parameter and the rule. Nothing was locked.</summary>
public sealed class InvalidLockArgumentException : LockException
{
    internal InvalidLockArgumentException(string parameterName, string rule, string? resource = null)
        : base(resource, $"Invalid '{parameterName}': {rule} Nothing was locked or changed.")
    {
        ParameterName = parameterName;
        Rule = rule;
    }

    /// <summary>The parameter that was rejected.</summary>
    public string ParameterName { get; }

    /// <summary>The rule it broke.</summary>
    public string Rule { get; }

    internal static void ThrowIfInvalidName(string? value, string parameterName)
    {
        if (value is null)
        {
            throw new InvalidLockArgumentException(parameterName, "it must not be null.");
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidLockArgumentException(parameterName, "it must not be empty or whitespace.");
        }

        if (value.Length > RedisLockOptions.MaxNameLength)
        {
            throw new InvalidLockArgumentException(parameterName, $"it has {value.Length} characters; at most {RedisLockOptions.MaxNameLength} are allowed.");
        }

        var lone = IndexOfLoneSurrogate(value);
        if (lone >= 0)
        {
            throw new InvalidLockArgumentException(
                parameterName,
                $"it is not valid UTF-16: a lone surrogate (U+{(int)value[lone]:X4}) at index {lone}. Redis keys and values are UTF-8, where every lone surrogate becomes U+FFFD, so different names would collide.");
        }
    }

    /// <summary>
    /// The index of the first lone (unpaired) UTF-16 surrogate in <paramref name="value"/>, or -1 when it is well-formed.
    /// Such strings cannot be encoded to UTF-8 faithfully: the encoder replaces each lone surrogate with U+FFFD.
    /// </summary>
    internal static int IndexOfLoneSurrogate(string value)
    {
        var span = value.AsSpan();
        var i = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0)
        {
            return -1;
        }

        for (; i < span.Length; i++)
        {
            var c = span[i];
            if (!char.IsSurrogate(c))
            {
                continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                i++;
                continue;
            }

            return i;
        }

        return -1;
    }
}
