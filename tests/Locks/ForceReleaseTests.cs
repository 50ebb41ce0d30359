using Resilience.TestSupport;

namespace Resilience.Locks.Tests;

public sealed class ForceReleaseTests(ServiceFixture services) : LockTestBase(services)
{
    [Fact]
    public async Task Force_release_by_another_owner_is_refused_and_by_the_owner_succeeds()
    {
        var outcomes = Collect("resilience.lock.force_releases");
        var locks = NewProvider();
        var alice = await locks.AcquireAsync("user-1", "alice");
        var value = await RawValueAsync(locks, "user-1");

        Assert.False(await locks.ForceReleaseAsync("user-1", "mallory"));
        Assert.Equal(value, await RawValueAsync(locks, "user-1"));

        Assert.True(await locks.ForceReleaseAsync("user-1", "alice"));
        Assert.False(await locks.IsLockedAsync("user-1"));
        Assert.False(await locks.ForceReleaseAsync("user-1", "alice"));

        Assert.Equal(1, outcomes.Sum("refused"));
        Assert.Equal(1, outcomes.Sum("released"));
        Assert.Equal(1, outcomes.Sum("not_held"));
        Assert.Equal(LockReleaseOutcome.AlreadyExpired, await alice.ReleaseAsync());
    }

    [Fact]
    public async Task Force_quit_then_retry_the_owner_force_releases_the_abandoned_lease_and_the_old_handle_cannot_touch_the_new_one()
    {
        // The app that held the lock was force-quit: its handle is never disposed.
        var crashedApp = NewProvider();
        var abandoned = await crashedApp.AcquireAsync("user-42", "user-42");

        // The user signs in again on a fresh app instance and retries.
        var freshApp = NewProvider();
        Assert.Null(await freshApp.TryAcquireAsync("user-42", "user-42"));
        Assert.True(await freshApp.ForceReleaseAsync("user-42", "user-42"));
        await using var retry = await freshApp.AcquireAsync("user-42", "user-42", TimeSpan.Zero);
        Assert.True(retry.FencingToken > abandoned.FencingToken);

        // Should the old process wake up and release, the new lease is untouched.
        Assert.Equal(LockReleaseOutcome.AlreadyExpired, await abandoned.ReleaseAsync());
        Assert.True(await freshApp.IsLockedAsync("user-42"));
        Assert.False(await retry.ExtendAsync() is false);
    }

    [Fact]
    public async Task Owner_ids_are_compared_exactly()
    {
        var locks = NewProvider();
        await using var alice = await locks.AcquireAsync("r", "Alice");
        Assert.False(await locks.ForceReleaseAsync("r", "alice"));
        Assert.False(await locks.ForceReleaseAsync("r", "Alice "));
        Assert.False(await locks.ForceReleaseAsync("r", "Alic"));
        Assert.True(await locks.IsLockedAsync("r"));
    }

    [Fact]
    public async Task GetHeldResources_lists_exactly_the_held_resources_of_this_lock_name()
    {
        var locks = NewProvider();
        var other = NewProvider(o => o.KeyPrefix = Prefix + "*x");
        Assert.Empty(await locks.GetHeldResourcesAsync());

        var a = await locks.AcquireAsync("user-a", "a");
        var b = await locks.AcquireAsync("user:{b}", "b");
        await using var elsewhere = await other.AcquireAsync("user-c", "c");
        await (await locks.AcquireAsync("user-d", "d")).DisposeAsync();

        Assert.Equal(["user-a", "user:{b}"], (await locks.GetHeldResourcesAsync()).Order(StringComparer.Ordinal));
        Assert.Equal(["user-c"], await other.GetHeldResourcesAsync());

        await a.DisposeAsync();
        await b.DisposeAsync();
        Assert.Empty(await locks.GetHeldResourcesAsync());
    }
}
