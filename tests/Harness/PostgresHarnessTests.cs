using Npgsql;
using Pgvector;
using Resilience.TestSupport;

namespace Resilience.Harness.Tests;

public sealed class PostgresHarnessTests(ServiceFixture services)
{
    [Fact]
    public async Task Fixture_reads_the_servers_max_connections()
    {
        var facts = await services.PostgresFactsAsync();

        await using var connection = new NpgsqlConnection(await services.PostgresAsync());
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SHOW max_connections", connection);
        var shown = int.Parse((string)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!);

        Assert.Equal(shown, facts.MaxConnections);
        Assert.InRange(facts.MaxConnections, 10, 10_000);
        Assert.True(facts.HasVector, "the vector extension is installed in the test database");
        Assert.True(facts.ServerVersionNum >= 150000, $"PostgreSQL 15 or later, got {facts.ServerVersionNum}");
    }

    [Fact]
    public async Task Pgvector_nearest_neighbour_query_round_trips_through_PgBouncer_in_transaction_mode()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = new NpgsqlDataSourceBuilder(await services.PgBouncerAsync());
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        builder.ConnectionStringBuilder.MaxAutoPrepare = 0;
        builder.UseVector();
        await using var dataSource = builder.Build();

        var table = $"harness_items_{Guid.NewGuid():N}";
        await using (var create = dataSource.CreateCommand(
            $"CREATE TABLE {table} (id int PRIMARY KEY, embedding vector(3) NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        try
        {
            var rows = new (int Id, float[] Embedding)[]
            {
                (1, [1, 0, 0]), (2, [0, 1, 0]), (3, [0, 0, 1]), (4, [0.9f, 0.1f, 0]),
            };
            foreach (var (id, embedding) in rows)
            {
                await using var insert = dataSource.CreateCommand($"INSERT INTO {table} (id, embedding) VALUES ($1, $2)");
                insert.Parameters.AddWithValue(id);
                insert.Parameters.AddWithValue(new Vector(embedding));
                await insert.ExecuteNonQueryAsync(ct);
            }

            await using var query = dataSource.CreateCommand(
                $"SELECT id, embedding FROM {table} ORDER BY embedding <-> $1 LIMIT 2");
            query.Parameters.AddWithValue(new Vector(new float[] { 1, 0.05f, 0 }));
            var found = new List<(int, Vector)>();
            await using (var reader = await query.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    found.Add((reader.GetInt32(0), reader.GetFieldValue<Vector>(1)));
                }
            }

            Assert.Equal([1, 4], found.Select(f => f.Item1));
            Assert.Equal(new float[] { 0.9f, 0.1f, 0 }, found[1].Item2.ToArray());
            await AssertTransactionPoolingAsync(await services.PgBouncerAsync(), ct);
        }
        finally
        {
            await using var drop = dataSource.CreateCommand($"DROP TABLE {table}");
            await drop.ExecuteNonQueryAsync(ct);
        }
    }

    // PgBouncer's admin console says which pooling mode it runs (the test database sets none of its own,
    // so the global one applies). The console speaks only
    // the simple query protocol, which Npgsql does not use, so ask it through psql.
    private static async Task AssertTransactionPoolingAsync(string connectionString, CancellationToken ct)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        var psql = new System.Diagnostics.ProcessStartInfo("psql")
        {
            ArgumentList = { "-h", settings.Host!, "-p", settings.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-U", settings.Username!, "-d", "pgbouncer", "-At", "-F", "|", "-c", "SHOW CONFIG" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["PGPASSWORD"] = settings.Password },
        };
        using var process = System.Diagnostics.Process.Start(psql)!;
        var output = await process.StandardOutput.ReadToEndAsync(ct);
        var error = await process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        Assert.True(process.ExitCode == 0, $"psql SHOW CONFIG on the PgBouncer admin console failed: {error}");

        // Columns: key|value|default|changeable
        var config = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('|'))
            .ToDictionary(columns => columns[0], columns => columns[1]);
        Assert.Equal("transaction", config["pool_mode"]);
        Assert.True(int.Parse(config["max_client_conn"], System.Globalization.CultureInfo.InvariantCulture) >= 2_400,
            "PgBouncer admits the drill's 2,400 clients");
    }
}
