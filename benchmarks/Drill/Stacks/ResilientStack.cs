using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Resilience.Caching;
using Resilience.Drill.Measurement;
using Resilience.Drill.Reporting;
using Resilience.Drill.Simulation;
using Resilience.Locks;
using Resilience.Pooling;
using Resilience.Scoring;
using Resilience.Uploads;
using StackExchange.Redis;

namespace Resilience.Drill.Stacks;

/// <summary>
/// The same service built on the five packages: a bounded, recycling pool per worker through PgBouncer, a session
/// lock released on every path with an adaptive TTL and owner-only force release, a capped LRU for prompt contexts,
/// collision-proof upload keys, and strict event-sourced score updates.
/// </summary>
internal sealed class ResilientStack : ISubmissionStack
{
    private const string ScoringSchema = "drill_scoring";
    private const string KeyTemplate = "{class_id}/{student_id}/{timestamp_ms}_{uuid}.{ext}";
    private readonly DrillSettings _settings;
    private readonly Infrastructure.ServiceSettings _services;
    private readonly PostgresPool[] _pools;
    private readonly ScoreStore[] _scores;
    private readonly RedisLockProvider _locks;
    private readonly LruCache<string, byte[]> _prompts;
    private readonly UploadKeyOptions _keyOptions;
    private readonly UploadKeyGenerator _keys;

    public ResilientStack(DrillSettings settings, Infrastructure.ServiceSettings services, IConnectionMultiplexer redis)
    {
        _settings = settings;
        _services = services;
        _pools = new PostgresPool[settings.FleetWorkers];
        _scores = new ScoreStore[settings.FleetWorkers];
        _locks = new RedisLockProvider(redis, new RedisLockOptions
        {
            KeyPrefix = $"drill-{Guid.NewGuid():N}"[..18],
            TtlMode = LockTtlMode.Adaptive,
            Ttl = TimeSpan.FromSeconds(1.8),      // the incident's 18 s at 1:10
            TtlBuffer = TimeSpan.FromSeconds(0.6), // the incident's 6 s buffer at 1:10
            MinTtl = TimeSpan.FromSeconds(1),
            MaxTtl = TimeSpan.FromSeconds(12),
            HoldTimeWindow = TimeSpan.FromSeconds(settings.MemoryWindowSeconds),
            HoldTimeAlertThreshold = TimeSpan.FromSeconds(settings.LockAlertSeconds),
            AutoExtend = true,
            MaxHoldTime = TimeSpan.FromSeconds(30),
            AcquireTimeout = TimeSpan.FromSeconds(2),
        });
        _prompts = new LruCache<string, byte[]>(new CacheOptions<string, byte[]>
        {
            Name = "drill-prompts",
            Capacity = settings.CacheCap,
            TimeToLive = TimeSpan.FromSeconds(settings.MemoryWindowSeconds), // the incident's 5 minutes at 1:10
            WeightCap = (long)settings.CacheCap * settings.PromptKilobytes * 1024,
            Weigher = static (_, value) => value.Length,
        });
        _keyOptions = new UploadKeyOptions { Template = KeyTemplate, Fields = ["class_id", "student_id"] };
        _keys = new UploadKeyGenerator(_keyOptions);
    }

    public string Name => "resilient";

    public long ClientConnectionBudget => (long)_settings.FleetWorkers * _settings.PoolSize;

    /// <summary>The fleet budget check of the first pool, for the report.</summary>
    public FleetBudgetReport? Budget { get; private set; }

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        for (var worker = 0; worker < _pools.Length; worker++)
        {
            _pools[worker] = await PostgresPool.CreateAsync(
                new PostgresPoolOptions
                {
                    Name = $"drill-w{worker}",
                    ConnectionString = _services.PgBouncer,
                    Target = PoolTarget.PgBouncerTransaction,
                    MaxSize = _settings.PoolSize,
                    AcquireTimeout = TimeSpan.FromSeconds(5),
                    Fleet = new FleetBudgetOptions
                    {
                        Boxes = _settings.Boxes,
                        WorkersPerBox = _settings.WorkersPerBox,
                        PgBouncerMaxClientConnections = _settings.PgBouncerMaxClientConnections,
                        PgBouncerServerConnections = _settings.PgBouncerServerConnections,
                        CheckOnStart = worker == 0,
                    },
                },
                cancellationToken: cancellationToken);
            _scores[worker] = new ScoreStore(_pools[worker], new ScoringOptions { Schema = ScoringSchema, CreateSchemaOnFirstUse = false });
        }

        Budget = await _pools[0].CheckBudgetAsync(cancellationToken);
        await using (var connection = new NpgsqlConnection(_services.Postgres))
        {
            await connection.OpenAsync(cancellationToken);
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {ScoringSchema} CASCADE", connection);
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }

        await _scores[0].EnsureSchemaAsync(cancellationToken);
    }

    public async Task RunUnderSessionAsync(
        Writer writer, bool retryAfterForceQuit, RunRecorder recorder, Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        if (retryAfterForceQuit && await _locks.ForceReleaseAsync(writer.UserId, authenticatedOwnerId: writer.UserId, cancellationToken))
        {
            // The app authenticated the user again after the force-quit: it may end that user's own previous session.
            recorder.Count(Counters.ForceReleases);
        }

        var start = Stopwatch.GetTimestamp();
        long workStarted = 0, workEnded = 0, fence = 0;
        try
        {
            await _locks.RunAsync(writer.UserId, writer.UserId, async (handle, token) =>
            {
                fence = handle.FencingToken;
                workStarted = Stopwatch.GetTimestamp();
                recorder.Record(Stage.LockAcquire, Stopwatch.GetElapsedTime(start, workStarted).TotalSeconds);
                try
                {
                    await work(token);
                }
                finally
                {
                    workEnded = Stopwatch.GetTimestamp();
                }
            }, cancellationToken: cancellationToken);
        }
        catch (LockTimeoutException error)
        {
            throw new SessionBusyException(error.Message);
        }
        finally
        {
            if (workStarted != 0)
            {
                var released = Stopwatch.GetTimestamp();
                recorder.Record(Stage.LockRelease, Stopwatch.GetElapsedTime(workEnded, released).TotalSeconds);
                recorder.Record(Stage.LockHold, Stopwatch.GetElapsedTime(workStarted, released).TotalSeconds);

                // Measurement: is this session's own grant (its fencing token) still in Redis after its scope ended?
                if (await _locks.GetLockInfoAsync(writer.UserId, CancellationToken.None) is { } info && info.FencingToken == fence)
                {
                    recorder.Count(Counters.LocksOutlivingSession);
                }
            }
        }
    }

    public IRequestScope BeginRequest(Writer writer) => new ResilientRequest(this, writer);

    public async ValueTask<int> GetPromptAsync(Writer writer, CancellationToken cancellationToken)
    {
        var size = _settings.PromptKilobytes * 1024;
        var prompt = await _prompts.GetOrAddAsync(
            writer.UserId, (user, _) => ValueTask.FromResult(PromptContext.Build(user, size)), cancellationToken);
        return prompt.Length;
    }

    public IReadOnlyList<string> CreateUploadKeys(Writer writer, SubmissionPlan plan)
    {
        // The attempt id is the submission's: a retry of the same submission gets the same keys and overwrites only itself.
        var keys = new string[plan.ImagePages];
        for (var page = 0; page < keys.Length; page++)
        {
            keys[page] = _keys.CreateForAttempt(
                $"{plan.SubmissionId:N}-p{page}", plan.CreatedAt, "image/jpeg", ("class_id", writer.ClassId), ("student_id", writer.UserId));
        }

        return keys;
    }

    public IReadOnlyList<string> CreateBurstKeys(Writer writer, int pages, TimeProvider instant)
    {
        var generator = new UploadKeyGenerator(_keyOptions, new UploadIdGenerator(instant));
        var keys = new string[pages];
        for (var page = 0; page < keys.Length; page++)
        {
            keys[page] = generator.Create("image/jpeg", ("class_id", writer.ClassId), ("student_id", writer.UserId));
        }

        return keys;
    }

    public (double P95Seconds, bool Alert) LockHoldSignal()
    {
        var snapshot = _locks.HoldTimes.GetSnapshot();
        return (snapshot.P95.TotalSeconds, snapshot.IsAlerting);
    }

    public int? ClientConnections() => _pools.Sum(pool => pool?.GetSnapshot().PhysicalConnections ?? 0);

    public async Task<IReadOnlyList<InvariantResult>> CheckInvariantsAsync(RunRecorder recorder, CancellationToken cancellationToken)
    {
        var mismatches = await _scores[0].VerifyAsync(cancellationToken: cancellationToken);
        var results = new List<InvariantResult>
        {
            new("projection equals the rebuild from the log", mismatches.Count == 0,
                $"{mismatches.Count} user/concept scores differ from the fold of their events"),
        };

        var left = await _locks.GetHeldResourcesAsync(cancellationToken);
        results.Add(Invariants.NoLockLeftHeld(recorder, left.Count));

        if (Budget is not null)
        {
            results.Add(new InvariantResult("fleet budget fits the server", Budget.Fits, Budget.Arithmetic));
        }

        return results;
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

        _locks.Dispose();
        _prompts.Dispose();
    }

    /// <summary>A request rents a connection from its worker's pool per statement, never across the AI call.</summary>
    private sealed class ResilientRequest(ResilientStack stack, Writer writer) : IRequestScope
    {
        public async Task<int> FindNeighboursAsync(float[] embedding, CancellationToken cancellationToken)
        {
            await using var connection = await stack._pools[writer.Worker].OpenConnectionAsync(cancellationToken);
            return await Documents.NearestAsync(connection, new Pgvector.Vector(embedding), cancellationToken);
        }

        public async Task ApplyScoreAsync(SubmissionPlan plan, int? points, CancellationToken cancellationToken)
        {
            double? delta = points is null ? null : points.Value + 1;
            try
            {
                await stack._scores[writer.Worker].ApplyAsync(
                    ScoreEvent.Add(plan.SubmissionId.ToString("N"), writer.UserId, plan.Concept, delta), cancellationToken);
            }
            catch (ScoreValidationException error) when (error.Reason == ScoreRejectionReason.Null)
            {
                throw new NullScoreRejectedException(error.Message, error);
            }
            catch (ScoringException error)
            {
                throw new ScoreWriteException(error.Message, error);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
