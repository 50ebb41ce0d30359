using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Resilience.Caching.Internal;

/// <summary>
/// The system's monotonic millisecond tick count, the clock of caches on <see cref="TimeProvider.System"/>: the value of
/// <see cref="Environment.TickCount64"/>, read more cheaply on 64-bit Linux.
/// </summary>
/// <remarks>
/// On Linux <see cref="Environment.TickCount64"/> is <c>clock_gettime(CLOCK_MONOTONIC_COARSE)</c> in milliseconds, reached
/// through a runtime shim. Every hit reads the clock (an expired entry is never returned), and the shim's extra call was
/// a measurable part of a hit, so on 64-bit Linux with glibc the cache calls <c>clock_gettime</c> itself, with the same
/// clock and the same conversion (the values are identical). Anywhere else, or if the function cannot be found or
/// disagrees with <see cref="Environment.TickCount64"/> at start-up, it uses <see cref="Environment.TickCount64"/>.
/// </remarks>
internal static unsafe class SystemTicks
{
    private const int ClockMonotonicCoarse = 6;

    private static readonly delegate* unmanaged[SuppressGCTransition]<int, Timespec*, int> ClockGetTime = Resolve();

    /// <summary>Whether the direct call is in use (tests).</summary>
    public static bool IsDirect => ClockGetTime != null;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    [SkipLocalsInit]
    public static long Milliseconds()
    {
        var clockGetTime = ClockGetTime;
        if (clockGetTime != null)
        {
            // No zeroing of the struct the call fills; the nanoseconds are in [0, 1e9), so the division can be unsigned.
            Timespec now;
            if (clockGetTime(ClockMonotonicCoarse, &now) == 0)
            {
                return (now.Seconds * 1000) + (long)((ulong)now.Nanoseconds / 1_000_000);
            }
        }

        return Environment.TickCount64;
    }

    private static delegate* unmanaged[SuppressGCTransition]<int, Timespec*, int> Resolve()
    {
        // struct timespec is two 64-bit fields on 64-bit Linux; CLOCK_MONOTONIC_COARSE is 6 on every Linux architecture.
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess
            || !NativeLibrary.TryLoad("libc.so.6", typeof(SystemTicks).Assembly, null, out var libc)
            || !NativeLibrary.TryGetExport(libc, "clock_gettime", out var address))
        {
            return null;
        }

        var clockGetTime = (delegate* unmanaged[SuppressGCTransition]<int, Timespec*, int>)address;
        Timespec now;
        var before = Environment.TickCount64;
        if (clockGetTime(ClockMonotonicCoarse, &now) != 0)
        {
            return null;
        }

        var direct = (now.Seconds * 1000) + (now.Nanoseconds / 1_000_000);
        var after = Environment.TickCount64;
        return direct >= before && direct <= after ? clockGetTime : null;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
