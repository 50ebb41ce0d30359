using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using Pgvector;
using Resilience.TestSupport;
using static Resilience.Pooling.Tests.PoolTestHelpers;

namespace Resilience.Pooling.Tests;

/// <summary>
/// PostgreSQL restarted under load (a PRIVATE throwaway cluster, never the shared server): the pool recovers with no leaked
/// slot, no stuck waiter and no permanent failure, and never holds more than MaxSize physical connections.
/// </summary>
public sealed class ServerRestartTests
{
    private const int MaxSize = 4;
    private const int Workers = 24;

    [Fact]
    public async Task Pool_recovers_from_a_server_restart_under_load()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await PrivatePostgres.StartAsync(cancellationToken: ct);
        var appName = UniqueAppName("restart");
        using var counter = new NpgsqlConnectionCounter(appName);
        await using var pool = new PostgresPool(Options(server.ConnectionString, appName, o =>
        {
            o.MaxSize = MaxSize;
            o.AcquireTimeout = TimeSpan.FromSeconds(30);
        }));

        var phase = 0; // 0 before the restart, 1 during, 2 after
        var successesAfter = new int[Workers];
        var failures = new ConcurrentQueue<Exception>();
        var maxOpen = 0L;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
        {
            var v = new Vector(new float[] { worker, 1, 2 });
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var connection = await pool.OpenConnectionAsync(stop.Token);
                    Interlocked.Exchange(ref maxOpen, Math.Max(Interlocked.Read(ref maxOpen), counter.Open()));
                    await connection.ExecuteScalarAsync<double>("SELECT @v::vector <-> '[0,0,0]'::vector", new { v = v.ToString() });
                    if (Volatile.Read(ref phase) == 2)
                    {
                        Interlocked.Increment(ref successesAfter[worker]);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or PoolAcquireTimeoutException or System.Net.Sockets.SocketException or IOException)
                {
                    failures.Enqueue(ex);
                    await Task.Yield();
                }
            }
        }, ct)).ToArray();

        await WaitUntil(() => pool.GetSnapshot().PhysicalConnections == MaxSize, ct);
        Volatile.Write(ref phase, 1);
        await server.RestartAsync(ct);
        Volatile.Write(ref phase, 2);

        // Recovery: every worker completes several queries after the restart.
        await WaitUntil(() => successesAfter.All(s => s >= 5), ct);
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.NotEmpty(failures); // the restart was felt
        Assert.All(successesAfter, s => Assert.True(s >= 5));
        Assert.InRange(Interlocked.Read(ref maxOpen), 1, MaxSize);
        Assert.Equal(0, pool.Waiters);
        Assert.Equal(0, pool.GetSnapshot().Busy);

        // No leaked slot: MaxSize leases at once, each on its own live backend.
        var all = await Task.WhenAll(Enumerable.Range(0, MaxSize).Select(_ => pool.OpenConnectionAsync(ct).AsTask()));
        var pids = new HashSet<int>();
        foreach (var connection in all)
        {
            pids.Add(await connection.ExecuteScalarAsync<int>("SELECT pg_backend_pid()"));
        }

        Assert.Equal(MaxSize, pids.Count);
        Assert.InRange(counter.Open(), 1, MaxSize);
        Assert.InRange(await ServerBackendsAsync(server.ConnectionString, appName, cancellationToken: ct), 1, MaxSize);
        foreach (var connection in all)
        {
            await connection.DisposeAsync();
        }
    }

    private static async Task WaitUntil(Func<bool> condition, CancellationToken cancellationToken)
    {
        var patience = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (patience.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("The pool did not reach the expected state within 60 s.");
            }

            await Task.Delay(10, cancellationToken);
        }
    }
}
