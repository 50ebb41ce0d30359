using Resilience.TestSupport;

namespace Resilience.Locks.Tests;

public sealed class RunAsyncTests(ServiceFixture services) : LockTestBase(services)
{
    [Fact]
    public async Task Returns_the_work_result_with_the_fencing_token_and_releases()
    {
        var locks = NewProvider();
        var fence = await locks.RunAsync("r", "alice", async (handle, token) =>
        {
            Assert.True(await locks.IsLockedAsync("r", token));
            return handle.FencingToken;
        });

        Assert.True(fence >= 1);
        Assert.False(await locks.IsLockedAsync("r"));
    }

    [Fact]
    public async Task Releases_when_the_work_throws()
    {
        var locks = NewProvider();
        await Assert.ThrowsAsync<InvalidOperationException>(() => locks.RunAsync("r", "alice", (_, _) => throw new InvalidOperationException("boom")));
        Assert.False(await locks.IsLockedAsync("r"));
    }

    [Fact]
    public async Task Releases_when_the_caller_cancels_during_the_work()
    {
        var locks = NewProvider();
        using var cts = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => locks.RunAsync("r", "alice", async (_, token) =>
        {
            await cts.CancelAsync();
            await Task.Delay(Timeout.Infinite, token);
        }, cancellationToken: cts.Token));
        Assert.False(await locks.IsLockedAsync("r"));
    }

    [Fact]
    public async Task Work_token_fires_when_the_lease_is_lost_and_the_caller_gets_LockLostException()
    {
        var locks = NewProvider(o => o.Ttl = TimeSpan.FromMilliseconds(300));
        var error = await Assert.ThrowsAsync<LockLostException>(() => locks.RunAsync("r", "alice", async (_, token) =>
            await Task.Delay(TimeSpan.FromSeconds(30), token)));

        Assert.Equal("r", error.Resource);
        Assert.True(error.FencingToken >= 1);
        Assert.False(await locks.IsLockedAsync("r"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Releasing_the_handle_from_another_thread_cancels_the_work_and_ends_in_LockLostException(bool dispose)
    {
        var locks = NewProvider();
        var started = new TaskCompletionSource<RedisLockHandle>(TaskCreationOptions.RunContinuationsAsynchronously);
        var workCancelled = false;
        var run = locks.RunAsync("dr", "alice", async (h, ct) =>
        {
            started.SetResult(h);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), ct);
            }
            catch (OperationCanceledException)
            {
                workCancelled = true;
                throw;
            }

            return "done";
        });

        var handle = await started.Task;
        await Task.Run(async () =>
        {
            if (dispose)
            {
                await handle.DisposeAsync();
            }
            else
            {
                Assert.Equal(LockReleaseOutcome.Released, await handle.ReleaseAsync());
            }
        });
        await using (var bob = await locks.TryAcquireAsync("dr", "bob"))
        {
            Assert.NotNull(bob);
            var error = await Assert.ThrowsAsync<LockLostException>(() => run);
            Assert.True(error.WasReleased);
            Assert.Equal(handle.FencingToken, error.FencingToken);
            Assert.IsAssignableFrom<OperationCanceledException>(error.InnerException);
            Assert.True(workCancelled);
            Assert.Equal("bob", (await locks.GetLockInfoAsync("dr"))!.OwnerId); // RunAsync's own release did not touch bob's lock
        }
    }

    [Fact]
    public async Task Work_that_ignores_its_token_and_finishes_after_a_release_elsewhere_ends_in_LockLostException()
    {
        var locks = NewProvider();
        var error = await Assert.ThrowsAsync<LockLostException>(() => locks.RunAsync("r", "alice", async (h, _) =>
        {
            await h.ReleaseAsync();
            Assert.NotNull(await locks.TryAcquireAsync("r", "bob"));
            return "done";
        }));

        Assert.True(error.WasReleased);
        Assert.Null(error.InnerException);
        Assert.Equal("bob", (await locks.GetLockInfoAsync("r"))!.OwnerId);
    }

    [Fact]
    public async Task Work_that_ignores_its_token_and_outlives_its_lease_ends_in_LockLostException()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var locks = NewProvider(time: time);
        var error = await Assert.ThrowsAsync<LockLostException>(() => locks.RunAsync("r", "alice", (_, _) =>
        {
            time.Advance(TimeSpan.FromSeconds(11));
            return Task.FromResult("done");
        }));

        Assert.False(error.WasReleased);
        Assert.False(await locks.IsLockedAsync("r")); // released on this path too
    }

    [Fact]
    public async Task Does_not_run_the_work_when_the_lock_stays_held()
    {
        var locks = NewProvider();
        await using var alice = await locks.AcquireAsync("r", "alice");
        var ran = false;
        await Assert.ThrowsAsync<LockTimeoutException>(() => locks.RunAsync("r", "bob", (_, _) =>
        {
            ran = true;
            return Task.CompletedTask;
        }, TimeSpan.FromMilliseconds(50)));
        Assert.False(ran);
        Assert.Equal("alice", (await locks.GetLockInfoAsync("r"))!.OwnerId);
    }

    [Fact]
    public async Task Soak_many_concurrent_workers_never_overlap_and_fences_increase_in_grant_order()
    {
        var locks = NewProvider(o =>
        {
            o.RetryDelayMin = TimeSpan.FromMilliseconds(1);
            o.RetryDelayMax = TimeSpan.FromMilliseconds(10);
        });
        string[] resources = ["r0", "r1", "r2"];
        var inside = new int[resources.Length];
        var maxInside = new int[resources.Length];
        var fences = resources.Select(_ => new List<long>()).ToArray();

        var workers = Enumerable.Range(0, 12).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                var r = (worker + i) % resources.Length;
                await locks.RunAsync(resources[r], $"worker-{worker}", async (handle, _) =>
                {
                    var now = Interlocked.Increment(ref inside[r]);
                    InterlockedMax(ref maxInside[r], now);
                    lock (fences[r])
                    {
                        fences[r].Add(handle.FencingToken);
                    }

                    await Task.Yield();
                    Interlocked.Decrement(ref inside[r]);
                }, TimeSpan.FromSeconds(60));
            }
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.All(maxInside, m => Assert.Equal(1, m));
        Assert.Equal(12 * 20, fences.Sum(f => f.Count));
        foreach (var list in fences)
        {
            Assert.Equal(list.Order(), list);
            Assert.Equal(list.Count, list.Distinct().Count());
        }

        foreach (var resource in resources)
        {
            Assert.False(await locks.IsLockedAsync(resource));
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
