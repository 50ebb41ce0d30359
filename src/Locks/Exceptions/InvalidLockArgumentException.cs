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
    }
}
