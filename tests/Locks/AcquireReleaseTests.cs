using Microsoft.Extensions.Time.Testing;
using Resilience.TestSupport;

namespace Resilience.Locks.Tests;

public sealed class AcquireReleaseTests(ServiceFixture services) : LockTestBase(services)
{
    [Fact]
    public async Task TryAcquire_grants_refuses_while_held_and_frees_on_dispose()
    {
        var locks = NewProvider();

        var alice = await locks.TryAcquireAsync("user-1", "alice");
        Assert.NotNull(alice);
        Assert.Equal("alice", alice.OwnerId);
        Assert.Equal("user-1", alice.Resource);
        Assert.True(alice.FencingToken >= 1);
        Assert.Equal(TimeSpan.FromSeconds(10), alice.Ttl);
        Assert.Null(await locks.TryAcquireAsync("user-1", "bob"));

        var info = await locks.GetLockInfoAsync("user-1");
        Assert.NotNull(info);
        Assert.Equal("alice", info.OwnerId);
        Assert.Equal(alice.FencingToken, info.FencingToken);
        Assert.InRange(info.TimeToLive!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10));

        await alice.DisposeAsync();
        Assert.True(alice.IsReleased);
        Assert.False(alice.IsLost);
        Assert.False(await locks.IsLockedAsync("user-1"));

        await using var bob = await locks.TryAcquireAsync("user-1", "bob");
        Assert.NotNull(bob);
        Assert.Equal(alice.FencingToken + 1, bob.FencingToken);
    }

    [Fact]
    public async Task Lease_value_is_a_128_bit_random_token_followed_by_the_owner_and_never_repeats()
    {
        var locks = NewProvider();
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 200; i++)
        {
            await using var handle = await locks.TryAcquireAsync("r", "owner-x");
            Assert.NotNull(handle);
            var raw = await RawValueAsync(locks, "r");
            Assert.NotNull(raw);
            Assert.EndsWith("owner-x", raw, StringComparison.Ordinal);
            var token = raw[..32];
            Assert.Matches("^[0-9a-f]{32}$", token);
            Assert.True(tokens.Add(token), $"token {token} was issued twice");
        }
    }

    [Fact]
    public async Task Fencing_tokens_strictly_increase_per_resource_and_are_independent_across_resources()
    {
        var locks = NewProvider();
        long lastA = 0, lastB = 0;
        for (var i = 0; i < 20; i++)
        {
            await using (var a = await locks.TryAcquireAsync("a", "o"))
            {
                Assert.True(a!.FencingToken > lastA);
                lastA = a.FencingToken;
            }

            if (i % 2 == 0)
            {
                await using var b = await locks.TryAcquireAsync("b", "o");
                Assert.True(b!.FencingToken > lastB);
                lastB = b.FencingToken;
            }
        }

        Assert.Equal(20, lastA);
        Assert.Equal(10, lastB);
    }

    [Fact]
    public async Task AcquireAsync_times_out_with_a_typed_error_naming_the_holder_but_never_its_token()
    {
        var locks = NewProvider();
        var timeouts = Collect("resilience.lock.acquires");
        await using var alice = await locks.AcquireAsync("user-2", "alice");
        var raw = await RawValueAsync(locks, "user-2");

        var error = await Assert.ThrowsAsync<LockTimeoutException>(() => locks.AcquireAsync("user-2", "bob", TimeSpan.FromMilliseconds(200)).AsTask());

        Assert.Equal("user-2", error.Resource);
        Assert.Equal("alice", error.HolderOwnerId);
        Assert.NotNull(error.HolderExpiresAt);
        Assert.InRange(error.HolderExpiresAt.Value, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(11));
        Assert.Contains("alice", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(raw![..32], error.Message, StringComparison.Ordinal);
        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.Equal(1, timeouts.Sum("timeout"));
        Assert.Equal("alice", (await locks.GetLockInfoAsync("user-2"))!.OwnerId);
    }

    [Fact]
    public async Task AcquireAsync_with_zero_timeout_tries_once()
    {
        var locks = NewProvider();
        await using var alice = await locks.AcquireAsync("r", "alice", TimeSpan.Zero);
        await Assert.ThrowsAsync<LockTimeoutException>(() => locks.AcquireAsync("r", "bob", TimeSpan.Zero).AsTask());
    }

    [Fact]
    public async Task AcquireAsync_waiter_gets_the_lock_after_the_holder_releases()
    {
        var locks = NewProvider(o => o.RetryDelayMin = o.RetryDelayMax = TimeSpan.FromSeconds(5));
        var alice = await locks.AcquireAsync("r", "alice");
        var waiting = locks.AcquireAsync("r", "bob", TimeSpan.FromSeconds(60)).AsTask();
        Assert.False(waiting.IsCompleted);

        Assert.Equal(LockReleaseOutcome.Released, await alice.ReleaseAsync());

        await using var bob = await waiting;
        Assert.Equal("bob", bob.OwnerId);
        Assert.Equal(alice.FencingToken + 1, bob.FencingToken);
    }

    [Fact]
    public async Task AcquireAsync_honours_the_callers_cancellation_as_cancellation_not_timeout()
    {
        var locks = NewProvider();
        await using var alice = await locks.AcquireAsync("r", "alice");
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => locks.AcquireAsync("r", "bob", TimeSpan.FromSeconds(60), cts.Token).AsTask());

        Assert.IsNotType<LockTimeoutException>(error);
        Assert.Equal("alice", (await locks.GetLockInfoAsync("r"))!.OwnerId);
    }

    [Fact]
    public async Task A_release_after_expiry_is_a_counted_no_op_that_leaves_the_new_holders_lock_intact()
    {
        var afterExpiry = Collect("resilience.lock.releases_after_expiry");
        var locks = NewProvider(o => o.Ttl = TimeSpan.FromMilliseconds(200));
        var alice = await locks.AcquireAsync("user-3", "alice");

        // bob gets the lock only once alice's lease has really expired in Redis.
        var bob = await locks.AcquireAsync("user-3", "bob", TimeSpan.FromSeconds(10));
        Assert.True(await bob.ExtendAsync(TimeSpan.FromSeconds(10)));
        var bobsValue = await RawValueAsync(locks, "user-3");

        var outcome = await alice.ReleaseAsync();

        Assert.Equal(LockReleaseOutcome.AlreadyExpired, outcome);
        Assert.Equal(bobsValue, await RawValueAsync(locks, "user-3"));
        Assert.Equal("bob", (await locks.GetLockInfoAsync("user-3"))!.OwnerId);
        Assert.Equal(1, afterExpiry.Sum());
        Assert.True(bob.FencingToken > alice.FencingToken);

        alice.Dispose();
        Assert.Equal(LockReleaseOutcome.AlreadyReleased, await alice.ReleaseAsync());
        Assert.Equal(bobsValue, await RawValueAsync(locks, "user-3"));
        Assert.Equal(LockReleaseOutcome.Released, await bob.ReleaseAsync());
    }

    [Fact]
    public async Task Synchronous_dispose_releases()
    {
        var locks = NewProvider();
        using (var handle = await locks.TryAcquireAsync("r", "alice"))
        {
            Assert.True(await locks.IsLockedAsync("r"));
        }

        Assert.False(await locks.IsLockedAsync("r"));
    }

    [Fact]
    public async Task Lost_token_fires_when_the_ttl_runs_out_on_the_time_provider_and_is_counted()
    {
        var lost = Collect("resilience.lock.lost");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var locks = NewProvider(time: time);
        await using var handle = await locks.AcquireAsync("r", "alice");
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(10), handle.ExpiresAt);

        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(handle.LostToken.IsCancellationRequested);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(handle.LostToken.IsCancellationRequested);
        Assert.True(handle.IsLost);
        Assert.Equal(1, lost.Sum());
    }

    [Fact]
    public async Task A_normal_release_never_fires_the_lost_token()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var locks = NewProvider(time: time);
        var handle = await locks.AcquireAsync("r", "alice");
        var token = handle.LostToken;
        await handle.DisposeAsync();
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(token.IsCancellationRequested);
    }

    [Fact]
    public async Task Manual_extend_moves_the_expiry_and_fails_after_release()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var locks = NewProvider(time: time);
        var handle = await locks.AcquireAsync("r", "alice");
        time.Advance(TimeSpan.FromSeconds(8));

        Assert.True(await handle.ExtendAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(20), handle.ExpiresAt);
        Assert.InRange((await locks.GetLockInfoAsync("r"))!.TimeToLive!.Value, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.False(handle.IsLost);

        await handle.DisposeAsync();
        Assert.False(await handle.ExtendAsync());
        Assert.False(await locks.IsLockedAsync("r"));
    }

    [Fact]
    public async Task Hold_durations_are_recorded_in_seconds()
    {
        var holds = Collect("resilience.lock.hold.duration");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var locks = NewProvider(time: time);
        var handle = await locks.AcquireAsync("r", "alice");
        time.Advance(TimeSpan.FromSeconds(3));
        await handle.DisposeAsync();

        var recorded = Assert.Single(holds.Measurements);
        Assert.Equal(3.0, recorded.Value, 3);
        Assert.Equal(1, locks.HoldTimes.GetSnapshot().SampleCount);
    }
}
