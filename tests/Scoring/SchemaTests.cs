using Npgsql;
using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

public sealed class SchemaTests(ServiceFixture services)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EnsureSchema_is_idempotent_and_safe_when_many_callers_race()
    {
        await using var db = await ScoringDatabase.CreateAsync(await services.PostgresAsync(), ensureSchema: false);
        using var second = new ScoreStore(db.DataSource, db.Options);

        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => (i % 2 == 0 ? db.Store : second).EnsureSchemaAsync(Ct)));
        await db.Store.ApplyAsync(ScoreEvent.Add("e1", "u", "c", 1), Ct);
        await db.Store.EnsureSchemaAsync(Ct);

        Assert.Equal(1, await db.ScalarAsync("SELECT value::bigint FROM {s}.scoring_meta WHERE key = 'schema_version'"));
        Assert.Equal(1, await db.EventCountAsync());
        Assert.Equal(3, await db.ScalarAsync(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename IN ('score_events', 'score_projection', 'scoring_meta')", db.Schema));
    }

    [Theory]
    [InlineData("UPDATE {s}.score_events SET value = 100")]
    [InlineData("UPDATE {s}.score_events SET source = 'edited' WHERE event_id = 'e1'")]
    [InlineData("DELETE FROM {s}.score_events")]
    [InlineData("DELETE FROM {s}.score_events WHERE event_id = 'e1'")]
    [InlineData("TRUNCATE {s}.score_events")]
    public async Task The_event_log_refuses_updates_deletes_and_truncation(string sql)
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        await db.Store.ApplyAsync(ScoreEvent.Add("e1", "u", "c", 1), Ct);
        var before = await db.SnapshotAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsync(sql));

        Assert.Equal("RS003", error.SqlState);
        Assert.Contains("append-only", error.MessageText);
        Assert.Equal(before, await db.SnapshotAsync());
    }

    [Theory]
    [InlineData("INSERT INTO {s}.score_projection VALUES ('u', 'c', 'NaN', 1, now())", "23514")]
    [InlineData("INSERT INTO {s}.score_projection VALUES ('u', 'c', 'Infinity', 1, now())", "23514")]
    [InlineData("INSERT INTO {s}.score_projection VALUES ('u', 'c', '-Infinity', 1, now())", "23514")]
    [InlineData("INSERT INTO {s}.score_projection VALUES ('u', 'c', 100.5, 1, now())", "23514")]
    [InlineData("INSERT INTO {s}.score_projection VALUES ('u', 'c', -0.5, 1, now())", "23514")]
    [InlineData("INSERT INTO {s}.score_projection VALUES ('u', 'c', NULL, 1, now())", "23502")]
    [InlineData("INSERT INTO {s}.score_projection VALUES ('u', 'c', 1, 0, now())", "23514")]
    [InlineData("INSERT INTO {s}.score_events (event_id, user_id, concept, kind, value, occurred_at, recorded_at, result_score, result_version) VALUES ('x', 'u', 'c', 'add', 'NaN', now(), now(), 1, 1)", "23514")]
    [InlineData("INSERT INTO {s}.score_events (event_id, user_id, concept, kind, value, occurred_at, recorded_at, result_score, result_version) VALUES ('x', 'u', 'c', 'add', 'Infinity', now(), now(), 1, 1)", "23514")]
    [InlineData("INSERT INTO {s}.score_events (event_id, user_id, concept, kind, value, occurred_at, recorded_at, result_score, result_version) VALUES ('x', 'u', 'c', 'set', 101, now(), now(), 1, 1)", "23514")]
    [InlineData("INSERT INTO {s}.score_events (event_id, user_id, concept, kind, value, occurred_at, recorded_at, result_score, result_version) VALUES ('x', 'u', 'c', 'add', 100.25, now(), now(), 1, 1)", "23514")]
    [InlineData("INSERT INTO {s}.score_events (event_id, user_id, concept, kind, value, occurred_at, recorded_at, result_score, result_version) VALUES ('x', 'u', 'c', 'add', NULL, now(), now(), 1, 1)", "23502")]
    [InlineData("INSERT INTO {s}.score_events (event_id, user_id, concept, kind, value, occurred_at, recorded_at, result_score, result_version) VALUES (' ', 'u', 'c', 'add', 1, now(), now(), 1, 1)", "23514")]
    [InlineData("INSERT INTO {s}.score_events (event_id, user_id, concept, kind, value, occurred_at, recorded_at, result_score, result_version) VALUES ('x', 'u', 'c', 'mul', 1, now(), now(), 1, 1)", "23514")]
    public async Task The_database_itself_refuses_NaN_infinity_null_and_out_of_range_values(string sql, string sqlState)
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => (o.MinScore, o.MaxScore) = (0, 100));

        var error = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsync(sql));

        Assert.Equal(sqlState, error.SqlState);
        Assert.Equal(0, await db.EventCountAsync() + await db.ProjectionCountAsync());
    }

    [Fact]
    public async Task Changing_the_range_migrates_the_constraints_and_a_range_that_strands_a_score_fails_without_changing_anything()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => (o.MinScore, o.MaxScore) = (0, 100));
        await db.Store.ApplyAsync(ScoreEvent.Set("e1", "u", "c", 80), Ct);
        await Assert.ThrowsAsync<ScoreBoundsExceededException>(() => db.Store.ApplyAsync(ScoreEvent.Add("e2", "u", "c", 50), Ct));

        using var wider = new ScoreStore(db.DataSource, new ScoringOptions { Schema = db.Schema, MinScore = 0, MaxScore = 1000 });
        await wider.EnsureSchemaAsync(Ct);
        Assert.Equal(130, (await wider.ApplyAsync(ScoreEvent.Add("e2", "u", "c", 50), Ct)).Score);
        Assert.Equal(1000, await db.ScalarAsync("SELECT value::bigint FROM {s}.scoring_meta WHERE key = 'max_score'"));

        using var narrower = new ScoreStore(db.DataSource, new ScoringOptions { Schema = db.Schema, MinScore = 0, MaxScore = 10 });
        var error = await Assert.ThrowsAsync<ScoreRangeConflictException>(() => narrower.EnsureSchemaAsync(Ct));
        Assert.Equal("23514", Assert.IsType<PostgresException>(error.InnerException).SqlState);
        Assert.Equal((db.Schema, 0m, 1000m, 0m, 10m), (error.Schema, error.SchemaMinScore, error.SchemaMaxScore, error.RequestedMinScore, error.RequestedMaxScore));
        Assert.Contains("[0, 1000]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[0, 10]", error.Message, StringComparison.Ordinal);

        // The same through a second store's first call (it creates the schema on first use).
        using var second = new ScoreStore(db.DataSource, new ScoringOptions { Schema = db.Schema, MinScore = 0, MaxScore = 50 });
        var firstCall = await Assert.ThrowsAsync<ScoreRangeConflictException>(() => second.ApplyAsync(ScoreEvent.Add("e9", "u", "c", 1), Ct));
        Assert.Contains("[0, 50]", firstCall.Message, StringComparison.Ordinal);
        Assert.Equal(0, await db.ScalarAsync("SELECT count(*) FROM {s}.score_events WHERE event_id = 'e9'"));
        Assert.Equal(1000, await db.ScalarAsync("SELECT value::bigint FROM {s}.scoring_meta WHERE key = 'max_score'"));
        Assert.Equal(140, (await wider.ApplyAsync(ScoreEvent.Add("e3", "u", "c", 10), Ct)).Score);
    }

    [Fact]
    public async Task Without_CreateSchemaOnFirstUse_a_missing_schema_is_an_error_not_a_silent_creation()
    {
        await using var db = await ScoringDatabase.CreateAsync(await services.PostgresAsync(), o => o.CreateSchemaOnFirstUse = false, ensureSchema: false);

        var error = await Assert.ThrowsAsync<PostgresException>(() => db.Store.ApplyAsync(ScoreEvent.Add("e1", "u", "c", 1), Ct));

        Assert.Equal(PostgresErrorCodes.InvalidSchemaName, error.SqlState);
    }
}
