using BenchmarkDotNet.Attributes;
using Npgsql;
using NpgsqlTypes;

namespace Resilience.Scoring.Benchmarks;

/// <summary>
/// 64 concurrent writers against one PostgreSQL through one 20-connection pool (the same for every method), on 200,000 existing
/// scores. Baseline: the incident's single <c>UPDATE ... SET score = &lt;null-keeping&gt;($1, score) + 1</c>, which writes no event.
/// Each method reports the time per score change (OperationsPerInvoke), so the Ratio column is the inverse throughput ratio.
/// </summary>
[MemoryDiagnoser]
public class ApplyThroughputBenchmarks
{
    public const int Writers = 64;
    public const int ChangesPerWriter = 50;
    public const int BatchSize = 100;
    private const int Users = 100_000;
    private const int Concepts = 2;

    private NpgsqlDataSource _dataSource = null!;

    /// <summary>Npgsql's <c>No Reset On Close</c> for the one shared data source (false is Npgsql's default).</summary>
    [Params(false, true)]
    public bool NoResetOnClose { get; set; }

    private ScoreStore _store = null!;
    private ScoreStore _uncombinedStore = null!;
    private string _schema = null!;
    private string _incidentSql = null!;
    private long _nextEventId;

    [GlobalSetup]
    public void Setup()
    {
        var connectionString = Environment.GetEnvironmentVariable("RESILIENCE_PG") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : "Host=127.0.0.1;Port=55432;Database=resilience;Username=resilience;Password=resilience";
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.MaxPoolSize = 20;
        builder.ConnectionStringBuilder.MaxAutoPrepare = 0;

        // One data source shared by every method, so the baseline and the store always run with the same settings.
        // NoResetOnClose = false is Npgsql's default: a reused pooled connection first runs DISCARD ALL, which also invalidates
        // every plan the session cached (apply_event re-plans its statements on every call). true skips that reset.
        builder.ConnectionStringBuilder.NoResetOnClose = NoResetOnClose;
        builder.ConnectionStringBuilder.ApplicationName = "scoring-benchmarks";
        _dataSource = builder.Build();
        _schema = $"scoring_bench_{Guid.NewGuid():N}";
        _store = new ScoreStore(_dataSource, new ScoringOptions { Schema = _schema, MinScore = 0, MaxScore = 1e12, MaxBatchSize = 1_000 });
        _store.EnsureSchemaAsync().GetAwaiter().GetResult();
        _uncombinedStore = new ScoreStore(_dataSource, new ScoringOptions { Schema = _schema, MinScore = 0, MaxScore = 1e12, MaxBatchSize = 1_000, CombineApplies = false });
        _incidentSql = $"UPDATE {_schema}.score_projection SET score = COALESCE($1, score) + 1 WHERE user_id = $2 AND concept = $3";

        // Every score exists before the runs, so the baseline's UPDATE always finds its row (as in production).
        using var seed = _dataSource.CreateCommand(
            $"INSERT INTO {_schema}.score_projection (user_id, concept, score, version, updated_at) " +
            $"SELECT 'student-' || u, 'concept-' || c, 10, 1, now() FROM generate_series(0, {Users - 1}) u, generate_series(0, {Concepts - 1}) c");
        seed.ExecuteNonQuery();
        using var analyze = _dataSource.CreateCommand($"ANALYZE {_schema}.score_projection");
        analyze.ExecuteNonQuery();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        using (var drop = _dataSource.CreateCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE"))
        {
            drop.ExecuteNonQuery();
        }

        _store.Dispose();
        _uncombinedStore.Dispose();
        _dataSource.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Writers * ChangesPerWriter, Description = "Incident UPDATE (null-keeping, no event)")]
    public Task IncidentUpdate() => RunWritersAsync(async random =>
    {
        for (var i = 0; i < ChangesPerWriter; i++)
        {
            var key = random.Next(Users * Concepts);
            await using var command = _dataSource.CreateCommand(_incidentSql);
            command.Parameters.Add(new NpgsqlParameter<decimal> { TypedValue = random.Next(100), NpgsqlDbType = NpgsqlDbType.Numeric });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = User(key / Concepts) });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Concept(key % Concepts) });
            await command.ExecuteNonQueryAsync();
        }
    });

    [Benchmark(OperationsPerInvoke = Writers * ChangesPerWriter, Description = "ApplyAsync (event + projection; default: combined)")]
    public Task Apply() => RunWritersAsync(async random =>
    {
        for (var i = 0; i < ChangesPerWriter; i++)
        {
            await _store.ApplyAsync(NextEvent(random));
        }
    });

    [Benchmark(OperationsPerInvoke = Writers * ChangesPerWriter, Description = "ApplyAsync, CombineApplies = false (one statement per call)")]
    public Task ApplyUncombined() => RunWritersAsync(async random =>
    {
        for (var i = 0; i < ChangesPerWriter; i++)
        {
            await _uncombinedStore.ApplyAsync(NextEvent(random));
        }
    });

    [Benchmark(OperationsPerInvoke = Writers * BatchSize, Description = "ApplyBatchAsync (100 events per call)")]
    public Task ApplyBatch() => RunWritersAsync(async random =>
    {
        var batch = new ScoreEvent[BatchSize];
        for (var i = 0; i < batch.Length; i++)
        {
            batch[i] = NextEvent(random);
        }

        await _store.ApplyBatchAsync(batch);
    });

    private static string User(int index) => $"student-{index}";

    private static string Concept(int index) => $"concept-{index}";

    private ScoreEvent NextEvent(Random random)
    {
        var key = random.Next(Users * Concepts);
        return ScoreEvent.Add($"bench-{Interlocked.Increment(ref _nextEventId)}", User(key / Concepts), Concept(key % Concepts), 1);
    }

    private static Task RunWritersAsync(Func<Random, Task> writer) =>
        Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() => writer(new Random(w * 7919 + Environment.TickCount)))));
}
