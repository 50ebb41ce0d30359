using System.Diagnostics;
using Dapper;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Resilience.TestSupport;
using static Resilience.Pooling.Tests.PoolTestHelpers;

namespace Resilience.Pooling.Tests;

/// <summary>
/// Random schedules of rent, return, cancel, timeout, failed open and broken connection against the real server. After
/// every step: Npgsql's own count of open physical connections for the pool never exceeds MaxSize, and no two live
/// leases share a connection. At the end: no waiter is left and every slot serves a lease again.
/// </summary>
public sealed class PoolScheduleProperties(ServiceFixture services)
{
    private const int MaxSize = 3;

    public enum Step
    {
        Rent,
        Return,
        Cancel,
        Timeout,
        FailNextOpen,
        Break,
    }

    [Property(MaxTest = 30, EndSize = 40)]
    public Property Schedules_never_exceed_MaxSize_and_leave_every_slot_usable()
    {
        var steps = Gen.Frequency(
            (6, Gen.Constant(Step.Rent)),
            (4, Gen.Constant(Step.Return)),
            (2, Gen.Constant(Step.Cancel)),
            (1, Gen.Constant(Step.Timeout)),
            (1, Gen.Constant(Step.FailNextOpen)),
            (1, Gen.Constant(Step.Break)));
        var schedule = Gen.ListOf(Gen.Zip(steps, Gen.Choose(0, 100)));
        var connectionString = services.PostgresAsync().GetAwaiter().GetResult();
        return Prop.ForAll(schedule.ToArbitrary(), s =>
        {
            var failure = Run(connectionString, s.ToList()).GetAwaiter().GetResult();
            return (failure is null).Label(failure ?? "ok");
        });
    }

    private static async Task<string?> Run(string connectionString, List<(Step Step, int Pick)> schedule)
    {
        var time = new FakeTimeProvider();
        var failNext = 0;
        var name = UniqueAppName("sched");
        using var counter = new NpgsqlConnectionCounter(name);
        await using var pool = new PostgresPool(
            Options(connectionString, name, o =>
            {
                o.MaxSize = MaxSize;
                o.MaxUses = 2;
                o.AcquireTimeout = TimeSpan.FromSeconds(5);
                o.ConfigureDataSource = b => b.UsePhysicalConnectionInitializer(
                    _ => { },
                    _ => Interlocked.Exchange(ref failNext, 0) == 1 ? throw new InvalidOperationException("injected open failure") : Task.CompletedTask);
            }),
            timeProvider: time);

        var held = new List<NpgsqlConnection>();
        var pending = new List<(Task<NpgsqlConnection> Task, CancellationTokenSource Cts)>();
        try
        {
            foreach (var (step, pick) in schedule)
            {
                switch (step)
                {
                    case Step.Rent:
                        var cts = new CancellationTokenSource();
                        pending.Add((pool.OpenConnectionAsync(cts.Token).AsTask(), cts));
                        break;
                    case Step.Return when held.Count > 0:
                        var returned = held[pick % held.Count];
                        held.Remove(returned);
                        await returned.DisposeAsync();
                        break;
                    case Step.Cancel when pending.Count > 0:
                        await pending[pick % pending.Count].Cts.CancelAsync();
                        break;
                    case Step.Timeout:
                        time.Advance(TimeSpan.FromSeconds(5));
                        break;
                    case Step.FailNextOpen:
                        Volatile.Write(ref failNext, 1);
                        break;
                    case Step.Break when held.Count > 0:
                        var victim = held[pick % held.Count];
                        held.Remove(victim);
                        try
                        {
                            await victim.ExecuteAsync("SELECT pg_terminate_backend(pg_backend_pid())");
                        }
                        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
                        {
                            // Expected: the backend is gone and the connection is closed.
                        }

                        await victim.DisposeAsync();
                        break;
                }

                await Settle(pool, pending, held);
                if (Invariants(pool, counter, held) is { } broken)
                {
                    return $"after {step}: {broken}";
                }
            }

            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }

            held.Clear();
            foreach (var (_, cts) in pending)
            {
                await cts.CancelAsync();
            }

            await Settle(pool, pending, held);
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }

            held.Clear();

            // An open whose caller gave up finishes in the background and then hands its slot back: allow for that.
            var patience = Stopwatch.StartNew();
            while (pool.GetSnapshot().Busy != 0 && patience.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(5);
            }

            if (pool.Waiters != 0 || pool.GetSnapshot().Busy != 0 || counter.Open() > MaxSize)
            {
                return $"after returning everything: {pool.GetSnapshot()}, Npgsql open {counter.Open()}; schedule {string.Join(",", schedule.Select(x => x.Step))}";
            }

            Volatile.Write(ref failNext, 0); // injection off for the final check

            // Every slot is usable again: MaxSize leases at once, each running a query on its own backend.
            var all = await Task.WhenAll(Enumerable.Range(0, MaxSize).Select(_ => pool.OpenConnectionAsync().AsTask()));
            var pids = new HashSet<int>();
            foreach (var connection in all)
            {
                pids.Add(await connection.ExecuteScalarAsync<int>("SELECT pg_backend_pid()"));
            }

            var open = counter.Open();
            foreach (var connection in all)
            {
                await connection.DisposeAsync();
            }

            // A slot retired on return (MaxUses) is refilled in the background before it is handed out again.
            patience.Restart();
            while (pool.GetSnapshot().Busy != 0 && patience.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(5);
            }

            return pids.Count == MaxSize && open <= MaxSize && pool.GetSnapshot().Busy == 0
                ? null
                : $"final check: {pids.Count} distinct backends, Npgsql open {open}, {pool.GetSnapshot()}";
        }
        finally
        {
            foreach (var (_, cts) in pending)
            {
                cts.Dispose();
            }
        }
    }

    /// <summary>Waits until every unfinished rent is queued (not opening), then moves finished rents into <paramref name="held"/>.</summary>
    private static async Task Settle(PostgresPool pool, List<(Task<NpgsqlConnection> Task, CancellationTokenSource Cts)> pending, List<NpgsqlConnection> held)
    {
        var patience = Stopwatch.StartNew();
        while (pending.Count(p => !p.Task.IsCompleted) != pool.Waiters)
        {
            if (patience.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("Rents did not settle: an open neither completed nor queued.");
            }

            await Task.Delay(1);
        }

        for (var i = pending.Count - 1; i >= 0; i--)
        {
            var (task, cts) = pending[i];
            if (!task.IsCompleted)
            {
                continue;
            }

            pending.RemoveAt(i);
            cts.Dispose();
            if (task.IsCompletedSuccessfully)
            {
                held.Add(task.Result);
            }
            else
            {
                var error = task.Exception?.InnerException;
                if (!task.IsCanceled && error is not (PoolAcquireTimeoutException or OperationCanceledException or InvalidOperationException))
                {
                    throw new InvalidOperationException($"Unexpected rent failure: {error}");
                }
            }
        }
    }

    private static string? Invariants(PostgresPool pool, NpgsqlConnectionCounter counter, List<NpgsqlConnection> held)
    {
        var open = counter.Open();
        var distinctPids = held.Select(c => c.ProcessID).Distinct().Count();
        var ok = open <= MaxSize
            && held.Count <= MaxSize
            && distinctPids == held.Count
            && held.Distinct(ReferenceEqualityComparer.Instance).Count() == held.Count
            && pool.GetSnapshot().Busy >= held.Count;
        return ok ? null : $"Npgsql open {open}, held {held.Count}, distinct backends {distinctPids}, {pool.GetSnapshot()}";
    }
}
