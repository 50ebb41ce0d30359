using Resilience.Caching.Internal;

namespace Resilience.Caching.Tests;

/// <summary>
/// The system-clock reading of caches on <see cref="TimeProvider.System"/>: it must be the very clock
/// <see cref="Environment.TickCount64"/> reads (same values, never behind it, never going backwards), whichever way it is read.
/// </summary>
public sealed class SystemTicksTests
{
    [Fact]
    public void Reads_the_same_clock_as_Environment_TickCount64()
    {
        for (var i = 0; i < 100_000; i++)
        {
            var before = Environment.TickCount64;
            var ticks = SystemTicks.Milliseconds();
            var after = Environment.TickCount64;
            Assert.InRange(ticks, before, after);
        }
    }

    [Fact]
    public void Never_goes_backwards()
    {
        var last = SystemTicks.Milliseconds();
        for (var i = 0; i < 100_000; i++)
        {
            var now = SystemTicks.Milliseconds();
            Assert.True(now >= last, $"{now} after {last}");
            last = now;
        }
    }

    [Fact]
    public void Calls_clock_gettime_directly_on_64_bit_linux_with_glibc()
    {
        var glibc = OperatingSystem.IsLinux() && Environment.Is64BitProcess
            && (File.Exists("/lib/x86_64-linux-gnu/libc.so.6") || File.Exists("/lib/aarch64-linux-gnu/libc.so.6"));
        Assert.Equal(glibc, SystemTicks.IsDirect);
    }
}
