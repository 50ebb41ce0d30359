namespace Resilience.Caching;

/// <summary>
/// A <c>GetOrAdd</c>/<c>GetOrAddAsync</c> factory asked the same cache for the key it is loading, directly or through the
/// factories of other keys (<c>a -&gt; b -&gt; a</c>), before its load finished; or two concurrent loads were about to wait
/// on each other (caller 1 loads <c>a</c>, whose factory loads <c>b</c>, while caller 2 loads <c>b</c>, whose factory loads
/// <c>a</c>). Single flight would make that call wait on its own load forever, so the call was refused instead. Unless the factory catches this exception, its load fails:
/// nothing is cached, nothing is evicted, and every caller waiting on that load sees this exception.
/// </summary>
public sealed class CacheLoadCycleException : CacheException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="key">The key that was requested again while it was loading, as text.</param>
    /// <param name="path">The keys whose loads led back to <paramref name="key"/>, outermost first, ending with <paramref name="key"/> itself.</param>
    public CacheLoadCycleException(string? key, IReadOnlyList<string?> path)
        : base(BuildMessage(key, path))
    {
        Key = key;
        Path = path;
    }

    /// <summary>The key that was requested again while it was loading, as text.</summary>
    public string? Key { get; }

    /// <summary>The load path, outermost first, ending with <see cref="Key"/> again (for a factory that loads its own key: <c>[k, k]</c>).</summary>
    public IReadOnlyList<string?> Path { get; }

    private static string BuildMessage(string? key, IReadOnlyList<string?> path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return $"Loading '{key}' would wait on its own load forever (load path: {string.Join(" -> ", path)}): a factory asked the cache "
            + $"for '{key}' while that load was still running and waiting, directly or through the loads of other keys, on the asking factory. "
            + "The call was refused and nothing was cached. A factory must not load its own key, directly or through the factories of other keys "
            + "(also not across concurrent callers): compute the value, or load a different key.";
    }
}
