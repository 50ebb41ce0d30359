// A small service that registers all five Resilience packages through DI and runs one real operation with each
// against the servers named by RESILIENCE_PGBOUNCER and RESILIENCE_REDIS. Prints "Resilience.<Name>: ok ..." per package.
using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Pgvector;
using Resilience.Caching;
using Resilience.Locks;
using Resilience.Pooling;
using Resilience.Scoring;
using Resilience.Uploads;
using StackExchange.Redis;

var bouncer = Environment.GetEnvironmentVariable("RESILIENCE_PGBOUNCER") ?? throw new InvalidOperationException("set RESILIENCE_PGBOUNCER");
var redis = Environment.GetEnvironmentVariable("RESILIENCE_REDIS") ?? throw new InvalidOperationException("set RESILIENCE_REDIS");
var run = Guid.NewGuid().ToString("N")[..8];

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddPostgresPool("main", o =>
{
    o.ConnectionString = bouncer;
    o.Target = PoolTarget.PgBouncerTransaction;
    o.MaxSize = 4;
});
builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis));
builder.Services.AddRedisLocks(o => o.KeyPrefix = $"consumer-{run}");
builder.Services.AddLruCache<string, string>("prompts", o => o.Capacity = 2);
builder.Services.AddUploadKeys("submissions", o =>
{
    o.Template = "{class_id}/{student_id}/{timestamp_ms}_{uuid}.{ext}";
    o.Fields = ["class_id", "student_id"];
});
builder.Services.AddScoring(o => o.Schema = $"consumer_{run}");

using var host = builder.Build();
await host.StartAsync(); // options are validated here
var services = host.Services;

// Pooling: a pgvector query through PgBouncer on a pooled, plain NpgsqlConnection.
var pool = services.GetRequiredService<PostgresPool>();
await using (var connection = await pool.OpenConnectionAsync())
{
    await using var command = new NpgsqlCommand("SELECT $1::vector <-> $2::vector", connection);
    command.Parameters.AddWithValue(new Vector(new float[] { 0, 0, 0 }));
    command.Parameters.AddWithValue(new Vector(new float[] { 3, 4, 0 }));
    var distance = (double)(await command.ExecuteScalarAsync())!;
    Check(Math.Abs(distance - 5) < 1e-9, $"pgvector distance {distance}");
    Console.WriteLine($"Resilience.Pooling: ok (pgvector distance {distance}, {pool.GetSnapshot().PhysicalConnections} physical connection(s))");
}

// Locks: run work under a lock, then it is free again.
var locks = services.GetRequiredService<RedisLockProvider>();
var fence = await locks.RunAsync("user-1", "user-1", (handle, _) => Task.FromResult(handle.FencingToken));
Check(!await locks.IsLockedAsync("user-1"), "the lock is free after the work");
Console.WriteLine($"Resilience.Locks: ok (fencing token {fence}, released)");

// Caching: the cap is strict and the newest entry is admitted.
var cache = services.GetRequiredKeyedService<LruCache<string, string>>("prompts");
foreach (var user in new[] { "a", "b", "c" })
{
    await cache.GetOrAddAsync(user, (key, _) => ValueTask.FromResult($"prompt for {key}"));
}

Check(cache.Count == 2 && cache.TryGetValue("c", out _) && !cache.TryGetValue("a", out _), "LRU with a cap of 2");
Console.WriteLine($"Resilience.Caching: ok ({cache.Count}/{cache.Capacity} entries, oldest evicted)");

// Uploads: a unique key that parses back.
var keys = services.GetRequiredKeyedService<UploadKeyGenerator>("submissions");
var key = keys.Create("image/jpeg", ("class_id", "c7"), ("student_id", "s42"));
Check(keys.Parse(key)["student_id"] == "s42", "the key parses back");
Console.WriteLine($"Resilience.Uploads: ok ({key})");

// Scoring: an event applied on the pool (the container's DbDataSource), a null refused, the log verifies.
var scores = services.GetRequiredService<ScoreStore>();
var applied = await scores.ApplyAsync(ScoreEvent.Add($"e-{run}", "user-1", "fractions", 3));
try
{
    await scores.ApplyAsync(ScoreEvent.Add($"e-{run}-null", "user-1", "fractions", null));
    Check(false, "a null score must be refused");
}
catch (ScoreValidationException refused)
{
    Check(refused.Reason == ScoreRejectionReason.Null, "refused as null");
}

Check(applied.Score == 3 && (await scores.VerifyAsync()).Count == 0, "the projection matches the log");
Console.WriteLine($"Resilience.Scoring: ok (score {applied.Score}, null refused, log verified)");

await using (var cleanup = await services.GetRequiredService<DbDataSource>().OpenConnectionAsync())
await using (var drop = cleanup.CreateCommand())
{
    drop.CommandText = $"DROP SCHEMA consumer_{run} CASCADE";
    await drop.ExecuteNonQueryAsync();
}

await host.StopAsync();
return 0;

static void Check(bool condition, string what)
{
    if (!condition)
    {
        throw new InvalidOperationException($"consumer check failed: {what}");
    }
}
