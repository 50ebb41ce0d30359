namespace Resilience.Uploads.Tests.Support;

/// <summary>A clock that may be set anywhere, backwards included (FakeTimeProvider refuses to go back).</summary>
internal sealed class SteppingClock(long unixMilliseconds) : TimeProvider
{
    private long _now = unixMilliseconds;
    private long _reads;

    public long Reads => Interlocked.Read(ref _reads);

    public long UnixMilliseconds
    {
        get => Interlocked.Read(ref _now);
        set => Interlocked.Exchange(ref _now, value);
    }

    /// <summary>Called on every read, to let a test move the clock between reads.</summary>
    public Func<long, long>? OnRead { get; set; }

    public override DateTimeOffset GetUtcNow()
    {
        var reads = Interlocked.Increment(ref _reads);
        if (OnRead is { } onRead)
        {
            UnixMilliseconds = onRead(reads);
        }

        return DateTimeOffset.FromUnixTimeMilliseconds(UnixMilliseconds);
    }
}
