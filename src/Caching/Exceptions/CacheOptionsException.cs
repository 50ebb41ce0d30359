namespace Resilience.Caching;

/// <summary>Cache or watch options are invalid; <see cref="Errors"/> lists every problem at once.</summary>
public sealed class CacheOptionsException : CacheException
{
    /// <summary>Creates the exception from the list of problems.</summary>
    /// <param name="optionsType">The options class that was validated.</param>
    /// <param name="errors">Every problem found, one message each.</param>
    public CacheOptionsException(Type optionsType, IReadOnlyList<string> errors)
        : base(BuildMessage(optionsType, errors))
    {
        OptionsType = optionsType;
        Errors = errors;
    }

    /// <summary>The options class that was validated.</summary>
    public Type OptionsType { get; }

    /// <summary>Every problem found, each naming the property and the rule.</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string BuildMessage(Type optionsType, IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(optionsType);
        ArgumentNullException.ThrowIfNull(errors);
        var name = optionsType.IsGenericType ? optionsType.Name[..optionsType.Name.IndexOf('`', StringComparison.Ordinal)] : optionsType.Name;
        return $"{name} is invalid ({errors.Count} problem(s)): {string.Join(" ", errors)}";
    }
}
