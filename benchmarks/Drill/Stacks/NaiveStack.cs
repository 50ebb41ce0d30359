using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Pgvector;
using Resilience.Drill.Measurement;
using Resilience.Drill.Reporting;
using Resilience.Drill.Simulation;
using Resilience.Pooling;
using StackExchange.Redis;

namespace Resilience.Drill.Stacks;

/// <summary>
/// The incident's stack, reproduced on purpose: an uncapped Npgsql pool per worker straight to PostgreSQL, a plain
/// SET NX lock with a 30 s (scaled) TTL released only on the success path, an unbounded per-worker map, object keys
/// with second resolution, and <c>score = COALESCE($1, score) + 1</c>.
/// </summary>
internal sealed class NaiveStack(
    DrillSettings settings, Infrastructure.ServiceSettings services, IConnectionMultiplexer redis, ServerLimits serverLimits) : ISubmissionStack
{
    private const string Schema = "drill_naive";
    private static readonly TimeSpan LockTtl = TimeSpan.FromSeconds(3); // the incident's 30 s at 1:10
    private static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(1);
    private readonly NpgsqlDataSource[] _pools = new NpgsqlDataSource[settings.FleetWorkers];
    private readonly ConcurrentDictionary<string, List<byte[]>> _promptMap = new(StringComparer.Ordinal); // never evicted
    private readonly HoldWindow _holds = new(TimeSpan.FromSeconds(settings.MemoryWindowSeconds), settings.LockAlertSeconds);
    private readonly string _lockPrefix = $"drill:naive:{Guid.NewGuid():N}:";

    public string Name => "naive";

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        for (var worker = 0; worker < _pools.Length; worker++)
        {
            var builder = new NpgsqlDataSourceBuilder(services.Postgres);
            builder.ConnectionStringBuilder.MaxPoolSize = settings.NaivePoolSize;
            builder.ConnectionStringBuilder.Timeout = 3;
            builder.ConnectionStringBuilder.ApplicationName = $"drill-naive-w{worker}";
            builder.UseVector();
            _pools[worker] = builder.Build();
        }

        await using var connection = await _pools[0].OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            DROP SCHEMA IF EXISTS {Schema} CASCADE;
            CREATE SCHEMA {Schema};
            CREATE TABLE {Schema}.user_mastery (user_id text NOT NULL, concept text NOT NULL, score int, PRIMARY KEY (user_id, concept));
            CREATE TABLE {Schema}.score_events (id bigserial PRIMARY KEY, user_id text NOT NULL, concept text NOT NULL, delta int NOT NULL);
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task RunUnderSessionAsync(
        Writer writer, bool retryAfterForceQuit, RunRecorder recorder, Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var key = _lockPrefix + writer.UserId;
        var session = Guid.NewGuid().ToString("N");
        var acquireStart = Stopwatch.GetTimestamp();
        var attempts = retryAfterForceQuit ? 3 : 1;
        var acquired = false;
        for (var attempt = 0; attempt < attempts && !acquired; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(RetryPause, cancellationToken);
            }

            acquired = await db.StringSetAsync(key, session, LockTtl, When.NotExists);
        }

        recorder.Record(Stage.LockAcquire, Stopwatch.GetElapsedTime(acquireStart).TotalSeconds);
        if (!acquired)
        {
            throw new SessionBusyException("your previous session is still active");
        }

        var holdStart = Stopwatch.GetTimestamp();
        try
        {
            await work(cancellationToken); // an exception here leaves the lock until its TTL: the incident's bug
        }
        catch
        {
            // Measurement only, no release: the lock stays for its whole TTL, so that is how long it was held,
            // and the session has ended with its lock still in Redis.
            _holds.Add(Math.Max(Stopwatch.GetElapsedTime(holdStart).TotalSeconds, LockTtl.TotalSeconds));
            if (await db.StringGetAsync(key) == session)
            {
                recorder.Count(Counters.LocksOutlivingSession);
            }

            throw;
        }

        var releaseStart = Stopwatch.GetTimestamp();
        await db.KeyDeleteAsync(key); // plain DEL, not compare-and-delete
        recorder.Record(Stage.LockRelease, Stopwatch.GetElapsedTime(releaseStart).TotalSeconds);
        var held = Stopwatch.GetElapsedTime(holdStart).TotalSeconds;
        recorder.Record(Stage.LockHold, held);
        _holds.Add(held);
    }

    public IRequestScope BeginRequest(Writer writer) => new NaiveRequest(this, writer);

    public ValueTask<int> GetPromptAsync(Writer writer, CancellationToken cancellationToken)
    {
        // The incident's map: keyed by user, holding the whole request with its streamed chunks, never evicted.
        var request = PromptContext.Build(writer.UserId, settings.PromptKilobytes * 1024);
        var history = _promptMap.GetOrAdd(writer.UserId, static _ => []);
        lock (history)
        {
            history.Add(request);
        }

        return ValueTask.FromResult(request.Length);
    }

    public IReadOnlyList<string> CreateUploadKeys(Writer writer, SubmissionPlan plan) =>
        SecondResolutionKeys(writer, plan.ImagePages, TimeProvider.System);

    public IReadOnlyList<string> CreateBurstKeys(Writer writer, int pages, TimeProvider instant) =>
        SecondResolutionKeys(writer, pages, instant);

    public (double P95Seconds, bool Alert) LockHoldSignal() => _holds.Read();

    public int? ClientConnections() => null; // Npgsql's pool does not say; the server-side count is the signal

    public long ClientConnectionBudget => (long)settings.FleetWorkers * settings.NaivePoolSize;

    public async Task<IReadOnlyList<InvariantResult>> CheckInvariantsAsync(RunRecorder recorder, CancellationToken cancellationToken)
    {
        var results = new List<InvariantResult>();

        await using var connection = new NpgsqlConnection(services.Postgres);
        await connection.OpenAsync(cancellationToken);
        await using (var drift = new NpgsqlCommand(
            $"""
            SELECT count(*) FROM {Schema}.user_mastery m
            FULL JOIN (SELECT user_id, concept, sum(delta) AS total FROM {Schema}.score_events GROUP BY user_id, concept) e
              USING (user_id, concept)
            WHERE m.score IS DISTINCT FROM e.total
            """, connection))
        {
            var drifted = (long)(await drift.ExecuteScalarAsync(cancellationToken))!;
            results.Add(new InvariantResult(
                "projection equals the rebuild from the log", drifted == 0,
                $"{drifted} user/concept scores differ from the sum of their logged changes"));
        }

        var left = 0;
        foreach (var endpoint in redis.GetEndPoints())
        {
            await foreach (var _ in redis.GetServer(endpoint).KeysAsync(pattern: _lockPrefix + "*").WithCancellation(cancellationToken))
            {
                left++;
            }
        }

        results.Add(Invariants.NoLockLeftHeld(recorder, left));

        // What Resilience.Pooling's start-up check would have said of this fleet (the naive stack never asked).
        var budget = FleetBudget.Evaluate(
            new PostgresPoolOptions
            {
                ConnectionString = services.Postgres,
                MaxSize = settings.NaivePoolSize,
                AllowMaxSizeAbove10 = true,
                Fleet = new FleetBudgetOptions { Boxes = settings.Boxes, WorkersPerBox = settings.WorkersPerBox },
            },
            serverLimits);
        results.Add(new InvariantResult("fleet budget fits the server", budget.Fits, budget.Arithmetic));
        return results;
    }

    // The incident's keys: {class_id}/{student_id}/{timestamp_seconds}.jpg, one per page.
    private static string[] SecondResolutionKeys(Writer writer, int pages, TimeProvider now)
    {
        var seconds = now.GetUtcNow().ToUnixTimeSeconds();
        return Enumerable.Range(0, pages)
            .Select(_ => string.Format(CultureInfo.InvariantCulture, "{0}/{1}/{2}.jpg", writer.ClassId, writer.UserId, seconds))
            .ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pool in _pools)
        {
            if (pool is not null)
            {
                await pool.DisposeAsync();
            }
        }

        _promptMap.Clear();
    }

    /// <summary>The incident's request: its own database client, opened on first use and kept until the request ends.</summary>
    private sealed class NaiveRequest(NaiveStack stack, Writer writer) : IRequestScope
    {
        private NpgsqlConnection? _connection;

        public async Task<int> FindNeighboursAsync(float[] embedding, CancellationToken cancellationToken) =>
            await Documents.NearestAsync(await ConnectionAsync(cancellationToken), new Vector(embedding), cancellationToken);

        public async Task ApplyScoreAsync(SubmissionPlan plan, int? points, CancellationToken cancellationToken)
        {
            var connection = await ConnectionAsync(cancellationToken);

            // The grading service logs the true change (this log is what the incident's backfill rebuilt from).
            await using (var log = new NpgsqlCommand(
                $"INSERT INTO {Schema}.score_events (user_id, concept, delta) VALUES ($1, $2, $3)", connection))
            {
                log.Parameters.AddWithValue(writer.UserId);
                log.Parameters.AddWithValue(plan.Concept);
                log.Parameters.AddWithValue(plan.TrueDelta);
                await log.ExecuteNonQueryAsync(cancellationToken);
            }

            // Read-modify-write in the application, then the incident's update.
            await using (var ensure = new NpgsqlCommand(
                $"INSERT INTO {Schema}.user_mastery (user_id, concept, score) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING", connection))
            {
                ensure.Parameters.AddWithValue(writer.UserId);
                ensure.Parameters.AddWithValue(plan.Concept);
                await ensure.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var read = new NpgsqlCommand(
                $"SELECT score FROM {Schema}.user_mastery WHERE user_id = $1 AND concept = $2", connection);
            read.Parameters.AddWithValue(writer.UserId);
            read.Parameters.AddWithValue(plan.Concept);
            var current = (int)(await read.ExecuteScalarAsync(cancellationToken))!;

            await using var update = new NpgsqlCommand(
                $"UPDATE {Schema}.user_mastery SET score = COALESCE($1, score) + 1 WHERE user_id = $2 AND concept = $3", connection);
            update.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = points is null ? null : current + points });
            update.Parameters.AddWithValue(writer.UserId);
            update.Parameters.AddWithValue(plan.Concept);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
            }
        }

        private async ValueTask<NpgsqlConnection> ConnectionAsync(CancellationToken cancellationToken) =>
            _connection ??= await stack._pools[writer.Worker].OpenConnectionAsync(cancellationToken);
    }
}
