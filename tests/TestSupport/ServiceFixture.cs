using StackExchange.Redis;

namespace Resilience.TestSupport;

/// <summary>
/// The real services for one test run. Each service is probed once, on first use; a test that needs an
/// unreachable service fails with a <see cref="ServiceUnavailableException"/> saying what to start.
/// Register with <c>[assembly: AssemblyFixture(typeof(ServiceFixture))]</c> and take it in a constructor.
/// </summary>
public sealed class ServiceFixture : IAsyncDisposable
{
    private readonly Lazy<Task<PostgresFacts>> _postgres =
        new(() => ServiceProbe.CheckPostgresAsync(ServiceEndpoints.Postgres));
    private readonly Lazy<Task<PostgresFacts>> _pgBouncer =
        new(() => ServiceProbe.CheckPostgresAsync(ServiceEndpoints.PgBouncer));
    private readonly Lazy<Task<IConnectionMultiplexer>> _redis =
        new(() => ServiceProbe.ConnectRedisAsync(ServiceEndpoints.Redis));

    /// <summary>The direct PostgreSQL connection string, after the server answered.</summary>
    public async Task<string> PostgresAsync()
    {
        await _postgres.Value;
        return ServiceEndpoints.Postgres.ConnectionString;
    }

    /// <summary>The PgBouncer (transaction mode) connection string, after PgBouncer answered.</summary>
    public async Task<string> PgBouncerAsync()
    {
        await _pgBouncer.Value;
        return ServiceEndpoints.PgBouncer.ConnectionString;
    }

    /// <summary>The server's limits, read once through the direct connection.</summary>
    public Task<PostgresFacts> PostgresFactsAsync() => _postgres.Value;

    /// <summary>A shared, connected multiplexer. Do not dispose it in a test.</summary>
    public Task<IConnectionMultiplexer> RedisAsync() => _redis.Value;

    /// <summary>The Redis configuration string, after Redis answered.</summary>
    public async Task<string> RedisConfigurationAsync()
    {
        await _redis.Value;
        return ServiceEndpoints.Redis.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis.IsValueCreated && _redis.Value.IsCompletedSuccessfully)
        {
            await _redis.Value.Result.DisposeAsync();
        }
    }
}
