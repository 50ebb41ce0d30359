using System.Runtime.CompilerServices;

namespace Resilience.Caching.Internal;

/// <summary>
/// Recency stamps without a shared counter: the caller's timestamp, forced to grow by at least one per call on each thread.
/// One thread therefore sees exact LRU order even when the clock does not move (a fake clock, a coarse one); across threads
/// the order follows the timestamps, which is as close to LRU as concurrent readers can define it. Nothing is shared,
/// so hits on two cores do not fight over a cache line.
/// </summary>
internal static class RecencyClock
{
    [ThreadStatic]
    private static long t_last;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Next(long timestamp)
    {
        var last = t_last;
        var stamp = timestamp > last ? timestamp : last + 1;
        t_last = stamp;
        return stamp;
    }
}
