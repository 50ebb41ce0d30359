using Npgsql;
using StackExchange.Redis;

namespace Resilience.TestSupport;

/// <summary>Connects to a service once and turns any failure into a <see cref="ServiceUnavailableException"/>.</summary>
public static class ServiceProbe
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Opens one connection (PostgreSQL or PgBouncer) and reads the server's limits.</summary>
    public static async Task<PostgresFacts> CheckPostgresAsync(ServiceEndpoint endpoint, CancellationToken cancellationToken = default)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(endpoint.ConnectionString)
            {
                Timeout = (int)ConnectTimeout.TotalSeconds,
                Pooling = false,
            };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int, " +
                "current_setting('server_version_num')::int, EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')",
                connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new PostgresFacts(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetBoolean(3));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new ServiceUnavailableException(endpoint, ex);
        }
    }

    /// <summary>Connects to Redis and sends a PING.</summary>
    public static async Task<IConnectionMultiplexer> ConnectRedisAsync(ServiceEndpoint endpoint)
    {
        try
        {
            var options = ConfigurationOptions.Parse(endpoint.ConnectionString);
            options.AbortOnConnectFail = true;
            options.ConnectTimeout = (int)ConnectTimeout.TotalMilliseconds;
            options.ConnectRetry = 1;
            var multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
            await multiplexer.GetDatabase().PingAsync();
            return multiplexer;
        }
        catch (Exception ex)
        {
            throw new ServiceUnavailableException(endpoint, ex);
        }
    }
}

/// <summary>What the fixture read from the PostgreSQL server.</summary>
public sealed record PostgresFacts(int MaxConnections, int SuperuserReservedConnections, int ServerVersionNum, bool HasVector);
