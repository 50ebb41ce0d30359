namespace Resilience.Caching.Internal;

/// <summary>
/// One load in progress: the cache, the key, the load it runs inside on the same async flow (<see cref="Outer"/>) and the
/// load it is waiting on now (possibly another flow's). The chain of <see cref="Outer"/> lets a cache see that a factory
/// asks for a key its own flow is loading; the waits let it see two flows waiting on each other's loads. Either would wait
/// forever.
/// </summary>
internal sealed class LoadFrame(object cache, object key, LoadFrame? outer)
{
    /// <summary>Bounds a walk along the waits (a cycle that does not pass through the caller must not trap it).</summary>
    private const int MaxWaitSteps = 1024;

    private static readonly AsyncLocal<LoadFrame?> CurrentFrame = new();

    private LoadFrame? _waitingOn;
    private bool _finished;

    /// <summary>The innermost load running on this flow, or <see langword="null"/> outside any factory.</summary>
    public static LoadFrame? Current
    {
        get => CurrentFrame.Value;
        set => CurrentFrame.Value = value;
    }

    public object Cache { get; } = cache;

    public object Key { get; } = key;

    public LoadFrame? Outer { get; } = outer;

    /// <summary>Records that this load now waits on <paramref name="other"/> (a full fence, so two flows racing to wait on
    /// each other cannot both miss the other's record).</summary>
    public void WaitOn(LoadFrame other) => Interlocked.Exchange(ref _waitingOn, other);

    public void StopWaitingOn(LoadFrame other) => Interlocked.CompareExchange(ref _waitingOn, null, other);

    /// <summary>Marks the load finished: waits recorded on it no longer block anyone.</summary>
    public void Finish() => Volatile.Write(ref _finished, true);

    /// <summary>
    /// Follows the waits from <paramref name="start"/>; when they lead to <paramref name="target"/>, returns the keys on the
    /// way (<paramref name="start"/>'s key first and last), else <see langword="null"/>.
    /// </summary>
    public static List<string?>? FindWaitPath(LoadFrame start, LoadFrame target)
    {
        if (!Reaches(start, target))
        {
            return null;
        }

        var path = new List<string?>();
        for (var frame = start; ; frame = Volatile.Read(ref frame._waitingOn)!)
        {
            path.Add(frame.Key.ToString());
            if (ReferenceEquals(frame, target) || path.Count > MaxWaitSteps)
            {
                break;
            }
        }

        path.Add(start.Key.ToString());
        return path;
    }

    private static bool Reaches(LoadFrame start, LoadFrame target)
    {
        var frame = start;
        for (var step = 0; step < MaxWaitSteps; step++)
        {
            if (ReferenceEquals(frame, target))
            {
                return true;
            }

            if (Volatile.Read(ref frame._finished) || Volatile.Read(ref frame._waitingOn) is not { } next)
            {
                return false;
            }

            frame = next;
        }

        return false;
    }
}
