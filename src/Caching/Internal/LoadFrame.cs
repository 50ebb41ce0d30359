namespace Resilience.Caching.Internal;

/// <summary>
/// One load in progress on the current async flow: the cache, the key and the load it runs inside. The chain lets a cache
/// see that a factory is asking for a key its own flow is already loading (which would wait on itself forever).
/// </summary>
internal sealed class LoadFrame(object cache, object key, LoadFrame? outer)
{
    private static readonly AsyncLocal<LoadFrame?> CurrentFrame = new();

    /// <summary>The innermost load running on this flow, or <see langword="null"/> outside any factory.</summary>
    public static LoadFrame? Current
    {
        get => CurrentFrame.Value;
        set => CurrentFrame.Value = value;
    }

    public object Cache { get; } = cache;

    public object Key { get; } = key;

    public LoadFrame? Outer { get; } = outer;
}
