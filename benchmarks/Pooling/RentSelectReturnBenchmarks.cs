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

        // Warm both to MaxSize physical connections.
        Task.WhenAll(Enumerable.Range(0, MaxSize * 4).Select(_ => LeaseNpgsql(1))).GetAwaiter().GetResult();
        Task.WhenAll(Enumerable.Range(0, MaxSize * 4).Select(_ => LeasePool(1))).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _npgsql.Dispose();
        _pool.Dispose();
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
            tasks[i] = LeasePool(each);
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

    private async Task LeasePool(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await using var connection = await _pool.OpenConnectionAsync();
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync();
        }
    }
}
