using FsCheck.Xunit;
using Resilience.TestSupport;

namespace Resilience.Locks.Tests;

/// <summary>
/// Exclusivity and fencing under concurrency, with combining on (one call in flight, so nearly every acquire and release
/// shares a script call) and off: never two holders of a resource at once, fencing tokens strictly increase per resource
/// in the order the holders entered, and nothing stays held once every scope has ended, whatever the scopes did.
/// </summary>
public sealed class CombinedConcurrencyTests(ServiceFixture services) : LockTestBase(services)
{
    private const int ResourceCount = 3;

    private enum Kind
    {
        Succeeds,
        Throws,
        CancelledByCaller,
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Workers_on_few_resources_never_overlap_and_fences_strictly_increase(bool combine)
    {
        var locks = NewProvider(o =>
        {
            o.CombineCalls = combine;
            o.MaxCallsInFlight = 1;
            o.RetryDelayMin = TimeSpan.FromMilliseconds(1);
            o.RetryDelayMax = TimeSpan.FromMilliseconds(5);
        });
        var run = Guid.NewGuid().ToString("N")[..8];
        var checker = new HolderChecker(ResourceCount);

        var workers = Enumerable.Range(0, 24).Select(async w =>
        {
            for (var i = 0; i < 8; i++)
            {
                var r = (w + i) % ResourceCount;
                await locks.RunAsync($"{run}-{r}", $"w{w}", async (handle, _) =>
                {
                    checker.Enter(r, handle.FencingToken);
                    await Task.Yield();
                    checker.Leave(r);
                }, TimeSpan.FromSeconds(60));
            }
        }).ToList();
        await Task.WhenAll(workers);

        Assert.Equal(0, checker.Overlaps);
        Assert.Equal(24 * 8, checker.Entries);
        Assert.Empty(await locks.GetHeldResourcesAsync());
        if (combine)
        {
            Assert.True(locks.Acquires!.SharedCalls > 0, "no acquire was combined");
            Assert.True(locks.Releases!.SharedCalls > 0, "no release was combined");
        }
    }

    /// <summary>
    /// Random bursts of concurrent scopes (resource and behaviour per scope from the generated input): every scope that
    /// got the lock had it alone, fences increase per resource, each scope ends with its own outcome, and nothing is left held.
    /// </summary>
    [Property(MaxTest = 25, EndSize = 40)]
    public async Task Concurrent_bursts_under_combining_keep_every_lock_exclusive_and_leave_nothing_held(int[] plan)
    {
        var locks = NewProvider(o =>
        {
            o.MaxCallsInFlight = 1 + (plan.Length % 3);
            o.RetryDelayMin = TimeSpan.FromMilliseconds(1);
            o.RetryDelayMax = TimeSpan.FromMilliseconds(5);
        });
        var run = Guid.NewGuid().ToString("N")[..8];
        var checker = new HolderChecker(ResourceCount);

        var scopes = plan.Select(async (code, index) =>
        {
            var x = (uint)code;
            var r = (int)(x % ResourceCount);
            var kind = (Kind)((x / ResourceCount) % 3);
            using var cts = new CancellationTokenSource();
            try
            {
                await locks.RunAsync($"{run}-{r}", $"o{index}", async (handle, token) =>
                {
                    checker.Enter(r, handle.FencingToken);
                    try
                    {
                        await Task.Yield();
                        switch (kind)
                        {
                            case Kind.Throws:
                                throw new InvalidDataException("work failed");
                            case Kind.CancelledByCaller:
                                await cts.CancelAsync();
                                token.ThrowIfCancellationRequested();
                                break;
                        }
                    }
                    finally
                    {
                        checker.Leave(r);
                    }
                }, TimeSpan.FromSeconds(60), cts.Token);
                return kind == Kind.Succeeds;
            }
            catch (InvalidDataException)
            {
                return kind == Kind.Throws;
            }
            catch (OperationCanceledException)
            {
                return kind == Kind.CancelledByCaller;
            }
        }).ToList();

        Assert.All(await Task.WhenAll(scopes), Assert.True);
        Assert.Equal(0, checker.Overlaps);
        Assert.Equal(plan.Length, checker.Entries);
        Assert.Empty(await locks.GetHeldResourcesAsync());
    }

    /// <summary>Counts holders per resource and checks fencing order as holders enter.</summary>
    private sealed class HolderChecker(int resources)
    {
        private readonly Lock _gate = new();
        private readonly int[] _inside = new int[resources];
        private readonly long[] _lastFence = new long[resources];

        public int Overlaps { get; private set; }

        public int Entries { get; private set; }

        public void Enter(int resource, long fence)
        {
            lock (_gate)
            {
                if (++_inside[resource] != 1)
                {
                    Overlaps++;
                }

                Assert.True(fence > _lastFence[resource], $"fence {fence} after {_lastFence[resource]} on resource {resource}");
                _lastFence[resource] = fence;
                Entries++;
            }
        }

        public void Leave(int resource)
        {
            lock (_gate)
            {
                _inside[resource]--;
            }
        }
    }
}
