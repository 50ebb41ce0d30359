using Npgsql;
using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

/// <summary>Terminating the applying backend (pg_terminate_backend from another connection) never leaves half an apply.</summary>
public sealed class KillTests(ServiceFixture services)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_the_connection_after_both_writes_but_before_commit_leaves_neither()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        await db.Store.ApplyAsync(ScoreEvent.Add("e0", "u", "c", 5), Ct);

        // Test hook: a trigger in this test's schema holds the apply open after the projection UPDATE and the event INSERT ran.
        await db.ExecuteAsync("""
            CREATE FUNCTION {s}.test_hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(120); RETURN NEW; END $$
            """);
        await db.ExecuteAsync("""
            CREATE TRIGGER test_hold AFTER INSERT ON {s}.score_events FOR EACH ROW
            WHEN (NEW.event_id LIKE 'slow-%') EXECUTE FUNCTION {s}.test_hold()
            """);

        var apply = Task.Run(() => db.Store.ApplyAsync(ScoreEvent.Add("slow-1", "u", "c", 3), Ct));
        await using var admin = await OpenAdminAsync();
        var pid = await WaitForBackendAsync(admin, db.ApplicationName, "PgSleep");

        // Both writes have happened inside the apply, yet another session sees neither.
        Assert.Equal(0, await db.ScalarAsync("SELECT count(*) FROM {s}.score_events WHERE event_id = 'slow-1'"));
        Assert.Equal(5, await db.ScalarAsync("SELECT score::bigint FROM {s}.score_projection WHERE user_id = 'u'"));

        await TerminateAsync(admin, pid);
        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(() => apply);
        Assert.Equal(PostgresErrorCodes.AdminShutdown, (error as PostgresException)?.SqlState ?? PostgresErrorCodes.AdminShutdown);

        Assert.Equal(0, await db.ScalarAsync("SELECT count(*) FROM {s}.score_events WHERE event_id = 'slow-1'"));
        var projection = await db.Store.GetAsync("u", "c", Ct);
        Assert.Equal((5.0, 1L), (projection!.Score, projection.Version));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));

        // The caller's retry with the same event id then applies it exactly once.
        await db.ExecuteAsync("DROP TRIGGER test_hold ON {s}.score_events");
        var retried = await db.Store.ApplyAsync(ScoreEvent.Add("slow-1", "u", "c", 3), Ct);
        Assert.Equal((8.0, 2L, false), (retried.Score, retried.Version, retried.IsDuplicate));
    }

    [Fact]
    public async Task Killing_a_batch_in_flight_leaves_none_of_its_events()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        await db.ExecuteAsync("""
            CREATE FUNCTION {s}.test_hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(120); RETURN NEW; END $$
            """);
        await db.ExecuteAsync("""
            CREATE TRIGGER test_hold AFTER INSERT ON {s}.score_events FOR EACH ROW
            WHEN (NEW.event_id = 'b-last') EXECUTE FUNCTION {s}.test_hold()
            """);

        var apply = Task.Run(() => db.Store.ApplyBatchAsync(
            [ScoreEvent.Add("b-1", "a", "c", 1), ScoreEvent.Add("b-2", "b", "c", 2), ScoreEvent.Add("b-last", "z", "c", 3)], Ct));
        await using var admin = await OpenAdminAsync();
        await TerminateAsync(admin, await WaitForBackendAsync(admin, db.ApplicationName, "PgSleep"));

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => apply);
        Assert.Equal(0, await db.EventCountAsync());
        Assert.Equal(0, await db.ProjectionCountAsync());
    }

    [Fact]
    public async Task Random_kills_during_concurrent_applies_leave_every_event_applied_exactly_once_after_retries()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, maxPoolSize: 6);
        const int Writers = 4, PerWriter = 40, MinimumKills = 5;
        var kills = 0;
        var failures = 0;
        using var writersDone = new CancellationTokenSource();

        var killer = Task.Run(async () =>
        {
            await using var admin = await OpenAdminAsync();
            var random = new Random(42);
            while (!writersDone.IsCancellationRequested || Volatile.Read(ref kills) < MinimumKills)
            {
                await using var command = new NpgsqlCommand(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity " +
                    "WHERE application_name = $1 AND state = 'active' AND pid <> pg_backend_pid() ORDER BY random() LIMIT 1) victims", admin);
                command.Parameters.AddWithValue(db.ApplicationName);
                Interlocked.Add(ref kills, (int)(long)(await command.ExecuteScalarAsync(Ct))!);
                await Task.Delay(random.Next(1, 4), Ct);
            }
        }, Ct);

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter || Volatile.Read(ref kills) < MinimumKills; i++)
            {
                var scoreEvent = ScoreEvent.Add($"w{w}-{i}", $"user-{i % 3}", "c", 1);
                while (true)
                {
                    try
                    {
                        await db.Store.ApplyAsync(scoreEvent, Ct);
                        break;
                    }
                    catch (NpgsqlException)
                    {
                        // The backend was killed mid-apply: whatever happened, retrying the same id is safe.
                        Interlocked.Increment(ref failures);
                    }
                }
            }
        }, Ct)).ToArray();
        await Task.WhenAll(writers);
        await writersDone.CancelAsync();
        await killer;

        // The killer's last victims may have finished their statement and gone back to the pool idle, so their
        // termination only shows on the next use: drop every pooled connection before the checks read the database.
        db.DataSource.Clear();
        var applied = await db.EventCountAsync();
        Assert.True(kills >= MinimumKills, $"only {kills} kills happened");
        Assert.True(failures > 0, "no apply observed a killed connection");
        Assert.True(applied >= Writers * PerWriter);
        Assert.Equal(applied, await db.ScalarAsync("SELECT sum(score)::bigint FROM {s}.score_projection"));
        Assert.Equal(applied, await db.ScalarAsync("SELECT sum(version) FROM {s}.score_projection"));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    internal static async Task<NpgsqlConnection> OpenAdminAsync()
    {
        var builder = new NpgsqlConnectionStringBuilder(ServiceEndpoints.Postgres.ConnectionString)
        {
            Pooling = false,
            ApplicationName = "scoring-tests-admin",
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(Ct);
        return connection;
    }

    internal static async Task<int> WaitForBackendAsync(NpgsqlConnection admin, string applicationName, string waitEvent)
    {
        // Polls the server's own view until the apply is parked in the hook (bounded; not a timing assertion).
        for (var attempt = 0; attempt < 3_000; attempt++)
        {
            await using var command = new NpgsqlCommand(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event = $2", admin);
            command.Parameters.AddWithValue(applicationName);
            command.Parameters.AddWithValue(waitEvent);
            if (await command.ExecuteScalarAsync(Ct) is int pid)
            {
                return pid;
            }

            await Task.Delay(10, Ct);
        }

        throw new InvalidOperationException($"No backend of {applicationName} reached wait event {waitEvent}.");
    }

    internal static async Task TerminateAsync(NpgsqlConnection admin, int pid)
    {
        await using var command = new NpgsqlCommand("SELECT pg_terminate_backend($1)", admin);
        command.Parameters.AddWithValue(pid);
        Assert.True((bool)(await command.ExecuteScalarAsync(Ct))!);
    }
}
