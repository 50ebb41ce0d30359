using BenchmarkDotNet.Attributes;
using Npgsql;
using Pgvector.Npgsql;
using Resilience.Pooling;

namespace Resilience.Pooling.Benchmarks;

/// <summary>
/// Rent + <c>SELECT 1</c> + return, against Npgsql's own pool with the same maximum (8) as the baseline, with 1, 64 and
/// 2,400 concurrent callers, directly and through PgBouncer. Every invocation runs <see cref="Operations"/> leases split
/// evenly over the callers, so the Mean and Allocated columns are per lease.
/// </summary>
[MemoryDiagnoser]
public class RentSelectReturnBenchmarks
{
    public const int Operations = 4800;
    private const int MaxSize = 8;

    private NpgsqlDataSource _npgsql = null!;
    private PostgresPool _pool = null!;
    private PostgresPool _poolNoRecycling = null!;

    public enum Route
    {
        Direct,
        PgBouncer,
    }

    [Params(1, 64, 2400)]
    public int Callers { get; set; }

    [Params(Route.Direct, Route.PgBouncer)]
    public Route Through { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var connectionString = Through == Route.Direct
            ? Environment.GetEnvironmentVariable("RESILIENCE_PG") ?? "Host=127.0.0.1;Port=55432;Database=resilience;Username=resilience;Password=resilience"
            : Environment.GetEnvironmentVariable("RESILIENCE_PGBOUNCER") ?? "Host=127.0.0.1;Port=56432;Database=resilience;Username=resilience;Password=resilience";

        // The baseline gets the same settings the pool applies for the route, so only the pooling differs.
        var baseline = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = MaxSize, ApplicationName = "bench-npgsql" };
        if (Through == Route.PgBouncer)
        {
            baseline.NoResetOnClose = true;
            baseline.MaxAutoPrepare = 0;
        }

        var builder = new NpgsqlDataSourceBuilder(baseline.ConnectionString);
        builder.UseVector();
        _npgsql = builder.Build();

        _pool = new PostgresPool(new PostgresPoolOptions
        {
            ConnectionString = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "bench-pool" }.ConnectionString,
            Name = "bench",
            MaxSize = MaxSize,
            AcquireTimeout = TimeSpan.FromMinutes(2),
            Target = Through == Route.PgBouncer ? PoolTarget.PgBouncerTransaction : PoolTarget.PostgreSql,
        });

        // The same pool with recycling after MaxUses switched off, to separate the pool's own overhead from the cost of
        // reconnecting every 1,000 leases (a new backend, TLS-less SCRAM authentication).
        _poolNoRecycling = new PostgresPool(new PostgresPoolOptions
        {
            ConnectionString = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "bench-pool-norecycle" }.ConnectionString,
            Name = "bench-norecycle",
            MaxSize = MaxSize,
            MaxUses = int.MaxValue,
            AcquireTimeout = TimeSpan.FromMinutes(2),
            Target = Through == Route.PgBouncer ? PoolTarget.PgBouncerTransaction : PoolTarget.PostgreSql,
        });

        // Warm all three to MaxSize physical connections.
        Task.WhenAll(Enumerable.Range(0, MaxSize * 4).Select(_ => LeaseNpgsql(1))).GetAwaiter().GetResult();
        Task.WhenAll(Enumerable.Range(0, MaxSize * 4).Select(_ => LeasePool(_pool, 1))).GetAwaiter().GetResult();
        Task.WhenAll(Enumerable.Range(0, MaxSize * 4).Select(_ => LeasePool(_poolNoRecycling, 1))).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _npgsql.Dispose();
        _pool.Dispose();
        _poolNoRecycling.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public Task NpgsqlDataSource()
    {
        var tasks = new Task[Callers];
        var each = Operations / Callers;
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = LeaseNpgsql(each);
        }

        return Task.WhenAll(tasks);
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public Task PostgresPool()
    {
        var tasks = new Task[Callers];
        var each = Operations / Callers;
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = LeasePool(_pool, each);
        }

        return Task.WhenAll(tasks);
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public Task PostgresPool_NoMaxUses()
    {
        var tasks = new Task[Callers];
        var each = Operations / Callers;
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = LeasePool(_poolNoRecycling, each);
        }

        return Task.WhenAll(tasks);
    }

    private async Task LeaseNpgsql(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await using var connection = await _npgsql.OpenConnectionAsync();
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync();
        }
    }

    private static async Task LeasePool(PostgresPool pool, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await using var connection = await pool.OpenConnectionAsync();
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync();
        }
    }
}
