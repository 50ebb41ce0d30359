using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

/// <summary>
/// One private schema on the shared PostgreSQL (or through PgBouncer) for one test: a small data source, a store on it,
/// and the schema dropped afterwards. The names carry a Guid so parallel tests and other engineers never collide.
/// </summary>
internal sealed class ScoringDatabase : IAsyncDisposable
{
    private ScoringDatabase(NpgsqlDataSource dataSource, ScoreStore store, ScoringOptions options, FakeTimeProvider time, string applicationName)
    {
        DataSource = dataSource;
        Store = store;
        Options = options;
        Time = time;
        ApplicationName = applicationName;
    }

    public NpgsqlDataSource DataSource { get; }

    public ScoreStore Store { get; }

    public ScoringOptions Options { get; }

    public FakeTimeProvider Time { get; }

    public string Schema => Options.Schema;

    public string ApplicationName { get; }

    /// <summary>A test-owned schema. Wide default range so generated deltas never hit the bounds unless a test wants them to.</summary>
    public static async Task<ScoringDatabase> CreateAsync(
        string connectionString, Action<ScoringOptions>? configure = null, int maxPoolSize = 8, bool ensureSchema = true)
    {
        var schema = $"scoring_test_{Guid.NewGuid():N}";
        var options = new ScoringOptions { Schema = schema, MinScore = -1_000_000, MaxScore = 1_000_000 };
        configure?.Invoke(options);
        var applicationName = $"scoring-tests-{Guid.NewGuid():N}"[..40];
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.MaxPoolSize = maxPoolSize;
        builder.ConnectionStringBuilder.ApplicationName = applicationName;
        builder.ConnectionStringBuilder.MaxAutoPrepare = 0;
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        var dataSource = builder.Build();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));
        var store = new ScoreStore(dataSource, options, time);
        var database = new ScoringDatabase(dataSource, store, options, time, applicationName);
        if (ensureSchema)
        {
            await store.EnsureSchemaAsync(TestContext.Current.CancellationToken);
        }

        return database;
    }

    public static async Task<ScoringDatabase> CreateAsync(ServiceFixture services, Action<ScoringOptions>? configure = null, int maxPoolSize = 8) =>
        await CreateAsync(await services.PostgresAsync(), configure, maxPoolSize);

    public async Task<long> ScalarAsync(string sql, params object[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql.Replace("{s}", Schema, StringComparison.Ordinal));
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql.Replace("{s}", Schema, StringComparison.Ordinal));
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    public Task<long> EventCountAsync() => ScalarAsync("SELECT count(*) FROM {s}.score_events");

    public Task<long> ProjectionCountAsync() => ScalarAsync("SELECT count(*) FROM {s}.score_projection");

    /// <summary>Both tables, as text, in a fixed order: equal snapshots mean nothing changed.</summary>
    public async Task<string> SnapshotAsync()
    {
        await using var command = DataSource.CreateCommand(
            $"SELECT (SELECT string_agg(format('%s|%s|%s|%s|%s', user_id, concept, score, version, updated_at), ';' ORDER BY user_id, concept) FROM {Schema}.score_projection) " +
            $"|| '#' || (SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', event_id, user_id, concept, kind, value, result_score, result_version), ';' ORDER BY seq) FROM {Schema}.score_events)");
        var value = await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
        return value is DBNull or null ? "<empty>" : (string)value;
    }

    public async ValueTask DisposeAsync()
    {
        Store.Dispose();
        await DataSource.DisposeAsync();

        // A fresh, unpooled connection: the test may have terminated backends of the pool above.
        var builder = new NpgsqlConnectionStringBuilder(ServiceEndpoints.Postgres.ConnectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
