namespace Resilience.Pooling;

/// <summary>The pool's options break one or more rules; <see cref="Problems"/> lists every one.</summary>
public sealed class PoolOptionsException : PostgresPoolException
{
    internal PoolOptionsException(string poolName, IReadOnlyList<string> problems)
        : base(poolName, $"Pool '{poolName}' has invalid options: " + string.Join(" ", problems))
    {
        Problems = problems;
    }

    /// <summary>Every problem found, each naming the option, its value and the rule.</summary>
    public IReadOnlyList<string> Problems { get; }
}
