using System.Runtime.CompilerServices;

namespace Resilience.Caching.Internal;

/// <summary>
/// Recency stamps without a shared counter: the caller's timestamp, forced to grow by at least one per call on each thread.
/// One thread therefore sees exact LRU order even when the clock does not move (a fake clock, a coarse one); across threads
/// the order follows the timestamps, which is as close to LRU as concurrent readers can define it. Nothing is shared,
/// so hits on two cores do not fight over a cache line. Caches on the system clock and caches on any other
/// <see cref="TimeProvider"/> keep separate sequences, so timestamps of different scales never mix.
/// </summary>
internal static class RecencyClock
{
    [ThreadStatic]
    private static long t_lastSystem;

    [ThreadStatic]
    private static long t_lastOther;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Next(long timestamp, bool systemClock) => systemClock ? NextSystem(timestamp) : NextOther(timestamp);

    /// <summary>The next stamp of the system-clock sequence of this thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long NextSystem(long timestamp)
    {
        var last = t_lastSystem;
        var stamp = timestamp > last ? timestamp : last + 1;
        t_lastSystem = stamp;
        return stamp;
    }

    /// <summary>The next stamp of the other-clock sequence of this thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long NextOther(long timestamp)
    {
        var last = t_lastOther;
        var stamp = timestamp > last ? timestamp : last + 1;
        t_lastOther = stamp;
        return stamp;
    }
}
