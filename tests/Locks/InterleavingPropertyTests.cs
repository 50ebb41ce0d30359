using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Resilience.TestSupport;

namespace Resilience.Locks.Tests;

/// <summary>
/// Model-based property on the real Redis: random interleavings of acquire, work that throws, caller cancellation, dispose
/// (async and sync), successful scopes and expiry, across three owners and two resources, checked step by step against a
/// tiny reference model (who holds each resource).
/// </summary>
public sealed class InterleavingPropertyTests(ServiceFixture services) : LockTestBase(services)
{
    private const int Owners = 3;
    private const int ResourceCount = 2;

    private enum Step
    {
        TryAcquire,
        ReleaseAsync,
        DisposeSync,
        Expire,
        ScopeThatThrows,
        ScopeCancelledByCaller,
        ScopeThatSucceeds,
    }

    [Property(MaxTest = 40, EndSize = 40)]
    public async Task Never_two_holders_free_after_every_scope_and_fencing_tokens_strictly_increase(int[] script)
    {
        var locks = NewProvider();
        var run = Guid.NewGuid().ToString("N")[..8];
        var resources = Enumerable.Range(0, ResourceCount).Select(i => $"{run}-r{i}").ToArray();
        var holder = new RedisLockHandle?[ResourceCount];      // the model: the live holder of each resource
        var lastFence = new long[ResourceCount];
        var handles = new List<RedisLockHandle>();             // every handle ever granted, live or stale

        void Granted(int r, RedisLockHandle handle)
        {
            Assert.Null(holder[r]);                                    // never two holders at once
            Assert.True(handle.FencingToken > lastFence[r], $"fence {handle.FencingToken} after {lastFence[r]}");
            lastFence[r] = handle.FencingToken;
        }

        foreach (var code in script)
        {
            var x = (uint)code;
            var step = (Step)(x % 7);
            var owner = $"owner-{(x / 7) % Owners}";
            var r = (int)((x / 21) % ResourceCount);
            var resource = resources[r];

            switch (step)
            {
                case Step.TryAcquire:
                {
                    var handle = await locks.TryAcquireAsync(resource, owner);
                    if (holder[r] is null)
                    {
                        Assert.NotNull(handle);
                        Granted(r, handle);
                        holder[r] = handle;
                        handles.Add(handle);
                    }
                    else
                    {
                        Assert.Null(handle);
                    }

                    break;
                }

                case Step.ReleaseAsync:
                case Step.DisposeSync:
                {
                    if (handles.Count == 0)
                    {
                        break;
                    }

                    var handle = handles[(int)((x / 42) % (uint)handles.Count)];
                    var index = Array.IndexOf(resources, handle.Resource);
                    var wasHolder = ReferenceEquals(holder[index], handle);
                    var wasReleased = handle.IsReleased;
                    if (step == Step.ReleaseAsync)
                    {
                        var outcome = await handle.ReleaseAsync();
                        Assert.Equal(wasReleased ? LockReleaseOutcome.AlreadyReleased
                            : wasHolder ? LockReleaseOutcome.Released : LockReleaseOutcome.AlreadyExpired, outcome);
                    }
                    else
                    {
                        handle.Dispose();
                    }

                    if (wasHolder)
                    {
                        holder[index] = null;
                    }

                    break;
                }

                case Step.Expire:
                    // What Redis does when the TTL runs out: the key disappears; the old handle goes stale.
                    await Db.KeyDeleteAsync(locks.GetLockKey(resource));
                    holder[r] = null;
                    break;

                case Step.ScopeThatThrows:
                case Step.ScopeCancelledByCaller:
                case Step.ScopeThatSucceeds:
                {
                    var wasFree = holder[r] is null;
                    using var cts = new CancellationTokenSource();
                    RedisLockHandle? seen = null;
                    var scope = locks.RunAsync(resource, owner, async (handle, token) =>
                    {
                        seen = handle;
                        Granted(r, handle);
                        Assert.True(await locks.IsLockedAsync(resource, CancellationToken.None));
                        if (step == Step.ScopeThatThrows)
                        {
                            throw new InvalidDataException("work failed");
                        }

                        if (step == Step.ScopeCancelledByCaller)
                        {
                            await cts.CancelAsync();
                            token.ThrowIfCancellationRequested();
                        }

                        return handle.FencingToken;
                    }, TimeSpan.Zero, cts.Token);

                    if (!wasFree)
                    {
                        await Assert.ThrowsAsync<LockTimeoutException>(() => scope);
                        Assert.Null(seen);
                        break;
                    }

                    switch (step)
                    {
                        case Step.ScopeThatThrows:
                            await Assert.ThrowsAsync<InvalidDataException>(() => scope);
                            break;
                        case Step.ScopeCancelledByCaller:
                            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => scope);
                            break;
                        default:
                            var result = await scope;
                            Assert.Equal(seen!.FencingToken, result);
                            break;
                    }

                    // Whatever the scope did, the lock is free after it.
                    Assert.True(seen!.IsReleased);
                    Assert.False(await locks.IsLockedAsync(resource));
                    break;
                }
            }

            // The model and Redis agree after every step.
            for (var i = 0; i < ResourceCount; i++)
            {
                var info = await locks.GetLockInfoAsync(resources[i]);
                Assert.Equal(holder[i]?.OwnerId, info?.OwnerId);
                if (holder[i] is { } live)
                {
                    Assert.Equal(live.FencingToken, info!.FencingToken);
                }
            }
        }

        foreach (var handle in handles)
        {
            await handle.DisposeAsync();
        }

        foreach (var resource in resources)
        {
            Assert.False(await locks.IsLockedAsync(resource));
        }
    }
}
