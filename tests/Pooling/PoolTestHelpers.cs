using Npgsql;
using Resilience.Pooling;

namespace Resilience.Pooling.Tests;

internal static class PoolTestHelpers
{
    /// <summary>A unique application name, so server-side counts see only this test's pool.</summary>
    public static string UniqueAppName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 60)];

    public static PostgresPoolOptions Options(string connectionString, string appName, Action<PostgresPoolOptions>? configure = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = appName };
        var options = new PostgresPoolOptions { ConnectionString = builder.ConnectionString, Name = appName };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Backends on the server carrying this application name (optionally only those serving a transaction).</summary>
    public static async Task<int> ServerBackendsAsync(string directConnectionString, string appName, bool busyOnly = false, CancellationToken cancellationToken = default)
    {
        var builder = new NpgsqlConnectionStringBuilder(directConnectionString) { Pooling = false, ApplicationName = "pool-test-observer" };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        var sql = "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1" + (busyOnly ? " AND state IN ('active', 'idle in transaction')" : string.Empty);
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = appName } } };
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
