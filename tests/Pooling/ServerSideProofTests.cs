using System.Collections.Concurrent;
using Npgsql;
using Pgvector;
using Resilience.TestSupport;
using static Resilience.Pooling.Tests.PoolTestHelpers;

namespace Resilience.Pooling.Tests;

/// <summary>
/// 2,400 concurrent tasks, each running a pgvector query through one pool of MaxSize 8, finish with zero errors while
/// <c>pg_stat_activity</c> (sampled continuously on a separate observer connection) never shows more than 8 backends
/// carrying the pool's unique application name, and Npgsql's own count of the pool's physical connections never exceeds 8.
/// Through PgBouncer, PgBouncer forwards <c>application_name</c> to the server connection serving each transaction; a
/// server connection keeps the name while idle afterwards, so there the server-side count is of backends with the name
/// that are serving a statement or transaction (<c>active</c> / <c>idle in transaction</c>).
/// </summary>
public sealed class ServerSideProofTests(ServiceFixture services)
{
    private const int Tasks = 2400;
    private const int MaxSize = 8;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Twenty_four_hundred_concurrent_pgvector_queries_never_use_more_than_MaxSize_connections(bool throughPgBouncer)
    {
        var ct = TestContext.Current.CancellationToken;
        var direct = await services.PostgresAsync();
        var target = throughPgBouncer ? await services.PgBouncerAsync() : direct;
        var appName = UniqueAppName(throughPgBouncer ? "proof-pgb" : "proof");
        using var counter = new NpgsqlConnectionCounter(appName);
        await using var pool = new PostgresPool(Options(target, appName, o =>
        {
            o.MaxSize = MaxSize;
            o.AcquireTimeout = TimeSpan.FromSeconds(120);
            o.Target = throughPgBouncer ? PoolTarget.PgBouncerTransaction : PoolTarget.PostgreSql;
        }));

        using var stop = new CancellationTokenSource();
        var samples = new ConcurrentQueue<(int Server, long Client)>();
        var sampler = Task.Run(() => SampleAsync(direct, appName, throughPgBouncer, counter, samples, stop.Token), ct);

        var errors = new ConcurrentQueue<Exception>();
        var query = new Vector(new float[] { 1, 2, 3 });
        var work = Enumerable.Range(0, Tasks).Select(i => Task.Run(async () =>
        {
            try
            {
                await using var connection = await pool.OpenConnectionAsync(ct);
                await using var command = new NpgsqlCommand("SELECT $1::vector <-> $2::vector, pg_sleep(0.001)", connection);
                command.Parameters.Add(new NpgsqlParameter { Value = query });
                command.Parameters.Add(new NpgsqlParameter { Value = new Vector(new float[] { i, i + 1, i + 2 }) });
                await using var reader = await command.ExecuteReaderAsync(ct);
                await reader.ReadAsync(ct);
                if (reader.GetDouble(0) < 0)
                {
                    throw new InvalidOperationException("negative distance");
                }
            }
            catch (Exception ex)
            {
                errors.Enqueue(ex);
            }
        }, ct)).ToArray();
        await Task.WhenAll(work);
        await stop.CancelAsync();
        await sampler;

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{samples.Count} samples; server-side max {samples.Max(s => s.Server)}, Npgsql-side max {samples.Max(s => s.Client)}");
        Assert.True(errors.IsEmpty, $"{errors.Count} errors, first: {errors.FirstOrDefault()}");
        Assert.True(samples.Count >= 5, $"only {samples.Count} samples were taken during the run");
        Assert.All(samples, s => Assert.InRange(s.Server, 0, MaxSize));
        Assert.All(samples, s => Assert.InRange(s.Client, 0, MaxSize));
        Assert.True(samples.Max(s => s.Server) > 0, "the observer never saw the pool's backends, so the bound proves nothing");
        Assert.Equal(0, pool.Waiters);
        Assert.Equal(0, pool.GetSnapshot().Busy);
    }

    private static async Task SampleAsync(
        string direct, string appName, bool busyOnly, NpgsqlConnectionCounter counter,
        ConcurrentQueue<(int Server, long Client)> samples, CancellationToken stop)
    {
        var builder = new NpgsqlConnectionStringBuilder(direct) { Pooling = false, ApplicationName = "pool-proof-observer" };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(CancellationToken.None);
        var sql = "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1" +
                  (busyOnly ? " AND state IN ('active', 'idle in transaction')" : string.Empty);
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = appName } } };
        await command.PrepareAsync(CancellationToken.None);
        while (!stop.IsCancellationRequested)
        {
            var server = (int)(await command.ExecuteScalarAsync(CancellationToken.None))!;
            samples.Enqueue((server, counter.Open()));
        }
    }
}
