using Npgsql;
using Pgvector;

namespace Resilience.Drill.Simulation;

/// <summary>The pgvector table both stacks search: 2,000 reference answers with 64-dimensional embeddings.</summary>
internal static class Documents
{
    public const string Table = "drill_documents";
    private const int Rows = 2000;

    /// <summary>Creates and fills the table once (idempotent).</summary>
    public static async Task EnsureAsync(string connectionString, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.Pooling = false;
        builder.UseVector();
        await using var source = builder.Build();
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using (var create = new NpgsqlCommand(
            $"CREATE TABLE IF NOT EXISTS {Table} (id int PRIMARY KEY, embedding vector({Dice.EmbeddingDimensions}) NOT NULL)", connection))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var count = new NpgsqlCommand($"SELECT count(*) FROM {Table}", connection))
        {
            if ((long)(await count.ExecuteScalarAsync(cancellationToken))! >= Rows)
            {
                return;
            }
        }

        var random = new Random(42);
        await using var writer = await connection.BeginBinaryImportAsync(
            $"COPY {Table} (id, embedding) FROM STDIN (FORMAT BINARY)", cancellationToken);
        for (var id = 0; id < Rows; id++)
        {
            var values = new float[Dice.EmbeddingDimensions];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)((random.NextDouble() * 2) - 1);
            }

            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(id, cancellationToken);
            await writer.WriteAsync(new Vector(values), cancellationToken);
        }

        await writer.CompleteAsync(cancellationToken);
    }

    /// <summary>The five nearest reference answers by L2 distance; returns how many came back.</summary>
    public static async Task<int> NearestAsync(NpgsqlConnection connection, Vector embedding, CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand($"SELECT id FROM {Table} ORDER BY embedding <-> $1 LIMIT 5", connection);
        query.Parameters.AddWithValue(embedding);
        var found = 0;
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found++;
        }

        return found;
    }
}
