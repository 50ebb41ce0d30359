using Microsoft.Extensions.Time.Testing;
using Resilience.TestSupport;

namespace Resilience.Locks.Tests;

/// <summary>
/// The README promises the lease ends in this process no later than Redis expires it. A timer alone cannot keep that
/// promise (it fires late), so <see cref="RedisLockHandle.IsLost"/> reads the clock and <see cref="RedisLockHandle.LostToken"/>
/// is scheduled <see cref="RedisLockOptions.ExpirySafetyMargin"/> early.
/// </summary>
public sealed class ExpirySafetyMarginTests(ServiceFixture services) : LockTestBase(services)
{
    [Fact]
    public async Task The_lost_token_fires_exactly_the_margin_before_the_expiry()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var locks = NewProvider(o => o.ExpirySafetyMargin = TimeSpan.FromMilliseconds(50), time);
        await using var handle = await locks.AcquireAsync("r", "alice");
        Assert.Equal(handle.ExpiresAt - TimeSpan.FromMilliseconds(50), handle.LostAt);

        time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(50) - TimeSpan.FromTicks(1));
        Assert.False(handle.LostToken.IsCancellationRequested);
        Assert.False(handle.IsLost);

        time.Advance(TimeSpan.FromTicks(1));
        Assert.True(handle.LostToken.IsCancellationRequested);
        Assert.True(handle.IsLost);
        Assert.True(time.GetUtcNow() < handle.ExpiresAt);
    }

    [Fact]
    public async Task IsLost_reads_the_clock_even_when_the_timer_never_fires_and_then_fires_the_token()
    {
        var time = new LateTimers(DateTimeOffset.UtcNow);
        var locks = NewProvider(time: time);
        await using var handle = await locks.AcquireAsync("r", "alice");
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = handle.LostToken.Register(() => fired.TrySetResult());

        time.Advance(handle.LostAt - time.GetUtcNow() - TimeSpan.FromTicks(1));
        Assert.False(handle.IsLost);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.False(handle.LostToken.IsCancellationRequested); // the (late) timer has not fired
        Assert.True(handle.IsLost);
        Assert.True(handle.LostToken.IsCancellationRequested);
        await fired.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task An_extension_moves_the_lost_point_with_the_margin()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var locks = NewProvider(time: time);
        await using var handle = await locks.AcquireAsync("r", "alice");
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(await handle.ExtendAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(20), handle.LostAt);

        time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(21));
        Assert.False(handle.IsLost);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(handle.IsLost);
    }

    [Fact]
    public async Task The_margin_is_capped_at_half_the_ttl()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var locks = NewProvider(o => (o.Ttl, o.ExpirySafetyMargin) = (TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(1)), time);
        await using var handle = await locks.AcquireAsync("r", "alice");
        Assert.Equal(handle.ExpiresAt - TimeSpan.FromMilliseconds(5), handle.LostAt);
        Assert.False(handle.IsLost);
    }

    /// <summary>
    /// Real Redis, real clock, no renewal, a short fixed TTL: whenever another owner has got the lock, the first handle
    /// already reports itself lost (and its token has fired), in every run.
    /// </summary>
    [Fact]
    public async Task Whenever_another_owner_holds_the_lock_the_old_handle_is_already_lost()
    {
        var locks = NewProvider(o => o.Ttl = TimeSpan.FromMilliseconds(200));
        var runs = Enumerable.Range(0, 20).Select(async i =>
        {
            var resource = "r" + i;
            var alice = await locks.AcquireAsync(resource, "alice");
            RedisLockHandle? bob;
            while ((bob = await locks.TryAcquireAsync(resource, "bob")) is null)
            {
                await Task.Delay(1);
            }

            var aliceLost = alice.IsLost;
            var tokenFired = alice.LostToken.IsCancellationRequested;
            await bob.DisposeAsync();
            await alice.DisposeAsync();
            return (aliceLost, tokenFired);
        }).ToList();

        var results = await Task.WhenAll(runs);
        Assert.All(results, r => Assert.True(r.aliceLost));
        Assert.All(results, r => Assert.True(r.tokenFired));
    }

    /// <summary>A fake clock whose timers never fire: stands in for a timer that is late.</summary>
    private sealed class LateTimers(DateTimeOffset start) : FakeTimeProvider(start)
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NeverTimer();

        private sealed class NeverTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
