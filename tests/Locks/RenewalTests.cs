using Resilience.TestSupport;

namespace Resilience.Locks.Tests;

/// <summary>Renewal against the real Redis TTL, so these use short real leases and bounded waits (no timing assertions).</summary>
public sealed class RenewalTests(ServiceFixture services) : LockTestBase(services)
{
    private RedisLockProvider Renewing(Action<RedisLockOptions>? more = null) => NewProvider(o =>
    {
        o.Ttl = TimeSpan.FromMilliseconds(400);
        o.AutoExtend = true;
        o.ExtendInterval = TimeSpan.FromMilliseconds(100);
        more?.Invoke(o);
    });

    [Fact]
    public async Task A_renewing_handle_keeps_its_lease_well_past_the_ttl()
    {
        var locks = Renewing();
        var handle = await locks.AcquireAsync("r", "alice");

        await Task.Delay(TimeSpan.FromMilliseconds(1500), TestContext.Current.CancellationToken);

        Assert.False(handle.IsLost);
        Assert.Equal("alice", (await locks.GetLockInfoAsync("r"))!.OwnerId);
        Assert.Null(await locks.TryAcquireAsync("r", "bob"));
        Assert.Equal(LockReleaseOutcome.Released, await handle.ReleaseAsync());
        Assert.False(await locks.IsLockedAsync("r"));
    }

    [Fact]
    public async Task An_extension_that_finds_the_key_gone_fires_the_lost_token_and_never_recreates_the_key()
    {
        var lost = Collect("resilience.lock.lost");
        var locks = Renewing(o => o.Ttl = TimeSpan.FromSeconds(5));
        var handle = await locks.AcquireAsync("r", "alice");

        await Db.KeyDeleteAsync(locks.GetLockKey("r"));

        await WaitForAsync(handle.LostToken, TimeSpan.FromSeconds(10));
        Assert.False(await Db.KeyExistsAsync(locks.GetLockKey("r")));
        Assert.Equal(1, lost.Sum());
        Assert.Equal(LockReleaseOutcome.AlreadyExpired, await handle.ReleaseAsync());
    }

    [Fact]
    public async Task An_extension_that_finds_another_owner_fires_the_lost_token_and_leaves_the_other_lease_alone()
    {
        var locks = Renewing(o => o.Ttl = TimeSpan.FromSeconds(5));
        var handle = await locks.AcquireAsync("r", "alice");
        var key = locks.GetLockKey("r");
        const string Other = "0123456789abcdef0123456789abcdefmallory";
        await Db.StringSetAsync(key, Other, TimeSpan.FromSeconds(60));

        await WaitForAsync(handle.LostToken, TimeSpan.FromSeconds(10));

        Assert.Equal(Other, (string?)await Db.StringGetAsync(key));
        Assert.True(await Db.KeyTimeToLiveAsync(key) > TimeSpan.FromSeconds(50));
        Assert.Equal("mallory", (await locks.GetLockInfoAsync("r"))!.OwnerId);
        await handle.DisposeAsync();
        Assert.Equal(Other, (string?)await Db.StringGetAsync(key));
    }

    [Fact]
    public async Task Renewal_stops_at_the_maximum_hold_time_so_a_stuck_holder_loses_the_lock()
    {
        var locks = Renewing(o => o.MaxHoldTime = TimeSpan.FromMilliseconds(900));
        var stuck = await locks.AcquireAsync("r", "stuck");

        await WaitForAsync(stuck.LostToken, TimeSpan.FromSeconds(10));

        await using var next = await locks.AcquireAsync("r", "next", TimeSpan.FromSeconds(5));
        Assert.Equal("next", (await locks.GetLockInfoAsync("r"))!.OwnerId);
        Assert.Equal(LockReleaseOutcome.AlreadyExpired, await stuck.ReleaseAsync());
    }
}
