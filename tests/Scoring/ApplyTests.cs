using Npgsql;
using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

public sealed class ApplyTests(ServiceFixture services)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Add_and_set_fold_into_the_projection_with_increasing_versions()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);

        var first = await db.Store.ApplyAsync(ScoreEvent.Add("e1", "u1", "algebra", 2.5), Ct);
        var second = await db.Store.ApplyAsync(ScoreEvent.Add("e2", "u1", "algebra", -1), Ct);
        var third = await db.Store.ApplyAsync(ScoreEvent.Set("e3", "u1", "algebra", 10), Ct);
        var fourth = await db.Store.ApplyAsync(ScoreEvent.Add("e4", "u1", "algebra", 0.25), Ct);

        Assert.Equal(new ScoreResult("e1", "u1", "algebra", 2.5, 1, false), first);
        Assert.Equal(new ScoreResult("e2", "u1", "algebra", 1.5, 2, false), second);
        Assert.Equal(new ScoreResult("e3", "u1", "algebra", 10, 3, false), third);
        Assert.Equal(new ScoreResult("e4", "u1", "algebra", 10.25, 4, false), fourth);

        var projection = await db.Store.GetAsync("u1", "algebra", Ct);
        Assert.NotNull(projection);
        Assert.Equal(10.25, projection.Score);
        Assert.Equal(4, projection.Version);
        Assert.Equal(db.Time.GetUtcNow(), projection.UpdatedAt);
        Assert.Null(await db.Store.GetAsync("u1", "geometry", Ct));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Event_row_keeps_every_field_and_the_result_it_produced()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        var occurred = new DateTimeOffset(2026, 2, 27, 23, 30, 0, TimeSpan.FromHours(-5));
        db.Time.Advance(TimeSpan.FromMinutes(3));

        await db.Store.ApplyAsync(ScoreEvent.Add("e1", "u1", "c", 4) with { OccurredAt = occurred, Source = "submission-17" }, Ct);

        await using var command = db.DataSource.CreateCommand(
            $"SELECT user_id, concept, kind, value, occurred_at, recorded_at, source, expected_version, result_score, result_version FROM {db.Schema}.score_events WHERE event_id = 'e1'");
        await using var reader = await command.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.Equal("u1", reader.GetString(0));
        Assert.Equal("c", reader.GetString(1));
        Assert.Equal("add", reader.GetString(2));
        Assert.Equal(4m, reader.GetDecimal(3));
        Assert.Equal(occurred.UtcDateTime, reader.GetDateTime(4));
        Assert.Equal(db.Time.GetUtcNow().UtcDateTime, reader.GetDateTime(5));
        Assert.Equal("submission-17", reader.GetString(6));
        Assert.True(reader.IsDBNull(7));
        Assert.Equal(4m, reader.GetDecimal(8));
        Assert.Equal(1L, reader.GetInt64(9));
    }

    [Fact]
    public async Task Repeated_event_id_has_no_second_effect_and_returns_the_first_result()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        var first = await db.Store.ApplyAsync(ScoreEvent.Add("e1", "u1", "c", 3), Ct);
        await db.Store.ApplyAsync(ScoreEvent.Add("e2", "u1", "c", 5), Ct);
        var before = await db.SnapshotAsync();

        var again = await db.Store.ApplyAsync(ScoreEvent.Add("e1", "u1", "c", 3), Ct);

        Assert.True(again.IsDuplicate);
        Assert.Equal(first with { IsDuplicate = true }, again);
        Assert.Equal(before, await db.SnapshotAsync());
    }

    [Fact]
    public async Task A_retried_event_returns_its_first_result_even_when_its_expected_version_or_the_range_no_longer_fits()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => (o.MinScore, o.MaxScore) = (0, 100));
        var versioned = ScoreEvent.Add("e1", "u", "c", 60) with { ExpectedVersion = 0 };
        var first = await db.Store.ApplyAsync(versioned, Ct);
        await db.Store.ApplyAsync(ScoreEvent.Add("e2", "u", "c", 30), Ct);
        var before = await db.SnapshotAsync();

        // Version is now 2 (a fresh event expecting 0 would conflict) and 90 + 60 > 100 (a fresh one would exceed the range).
        var retried = await db.Store.ApplyAsync(versioned, Ct);
        var retriedInBatch = await db.Store.ApplyBatchAsync([versioned, ScoreEvent.Add("e3", "u", "c", 1)], Ct);

        Assert.Equal(first with { IsDuplicate = true }, retried);
        Assert.Equal(first with { IsDuplicate = true }, retriedInBatch[0]);
        Assert.Equal((91.0, 3L), (retriedInBatch[1].Score, retriedInBatch[1].Version));
        Assert.NotEqual(before, await db.SnapshotAsync());
        Assert.Equal(3, await db.EventCountAsync());
    }

    [Fact]
    public async Task Reusing_an_event_id_for_a_different_change_is_refused_and_writes_nothing()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        await db.Store.ApplyAsync(ScoreEvent.Add("e1", "u1", "c", 3), Ct);
        var before = await db.SnapshotAsync();

        var error = await Assert.ThrowsAsync<EventIdReusedException>(() => db.Store.ApplyAsync(ScoreEvent.Add("e1", "u1", "c", 4), Ct));
        Assert.Equal("e1", error.EventId);
        await Assert.ThrowsAsync<EventIdReusedException>(() => db.Store.ApplyAsync(ScoreEvent.Add("e1", "u2", "c", 3), Ct));
        await Assert.ThrowsAsync<EventIdReusedException>(() => db.Store.ApplyAsync(ScoreEvent.Set("e1", "u1", "c", 3), Ct));

        Assert.Equal(before, await db.SnapshotAsync());
    }

    [Fact]
    public async Task Matching_expected_version_applies_and_a_stale_one_is_a_typed_conflict_with_no_partial_write()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        var created = await db.Store.ApplyAsync(ScoreEvent.Set("e1", "u1", "c", 50) with { ExpectedVersion = 0 }, Ct);
        var updated = await db.Store.ApplyAsync(ScoreEvent.Add("e2", "u1", "c", 5) with { ExpectedVersion = 1 }, Ct);
        Assert.Equal((50.0, 1L), (created.Score, created.Version));
        Assert.Equal((55.0, 2L), (updated.Score, updated.Version));
        var before = await db.SnapshotAsync();

        var stale = await Assert.ThrowsAsync<ScoreVersionConflictException>(
            () => db.Store.ApplyAsync(ScoreEvent.Add("e3", "u1", "c", 5) with { ExpectedVersion = 1 }, Ct));
        Assert.Equal(("e3", "u1", "c", 1L, 2L), (stale.EventId, stale.UserId, stale.Concept, stale.ExpectedVersion, stale.ActualVersion));
        Assert.IsType<PostgresException>(stale.InnerException);

        var expectedNone = await Assert.ThrowsAsync<ScoreVersionConflictException>(
            () => db.Store.ApplyAsync(ScoreEvent.Add("e4", "u1", "c", 5) with { ExpectedVersion = 0 }, Ct));
        Assert.Equal(2L, expectedNone.ActualVersion);

        var missing = await Assert.ThrowsAsync<ScoreVersionConflictException>(
            () => db.Store.ApplyAsync(ScoreEvent.Add("e5", "u9", "c", 5) with { ExpectedVersion = 3 }, Ct));
        Assert.Equal(0L, missing.ActualVersion);

        Assert.Equal(before, await db.SnapshotAsync());
        Assert.Equal(0, await db.ScalarAsync("SELECT count(*) FROM {s}.score_events WHERE event_id IN ('e3', 'e4', 'e5')"));
    }

    [Fact]
    public async Task A_result_outside_the_range_is_refused_by_the_database_and_writes_nothing()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => (o.MinScore, o.MaxScore) = (0, 100));
        await db.Store.ApplyAsync(ScoreEvent.Add("e1", "u1", "c", 90), Ct);
        var before = await db.SnapshotAsync();

        var over = await Assert.ThrowsAsync<ScoreBoundsExceededException>(() => db.Store.ApplyAsync(ScoreEvent.Add("e2", "u1", "c", 20), Ct));
        Assert.Equal("e2", over.EventId);
        Assert.Contains("MaxScore = 100", over.Message);
        await Assert.ThrowsAsync<ScoreBoundsExceededException>(() => db.Store.ApplyAsync(ScoreEvent.Add("e3", "u2", "c", -1), Ct));

        Assert.Equal(before, await db.SnapshotAsync());
        var stillFine = await db.Store.ApplyAsync(ScoreEvent.Add("e4", "u1", "c", -90), Ct);
        Assert.Equal(0, stillFine.Score);
    }

    [Fact]
    public async Task Many_tasks_applying_the_same_event_id_at_once_apply_it_exactly_once()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        await db.Store.ApplyAsync(ScoreEvent.Add("seed", "u1", "c", 1), Ct);

        for (var round = 0; round < 10; round++)
        {
            var id = $"same-{round}";
            var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => db.Store.ApplyAsync(ScoreEvent.Add(id, "u1", "c", 2), Ct))));

            Assert.Single(results, r => !r.IsDuplicate);
            Assert.All(results, r => Assert.Equal((results[0].Score, results[0].Version), (r.Score, r.Version)));
        }

        var projection = await db.Store.GetAsync("u1", "c", Ct);
        Assert.Equal((21.0, 11L), (projection!.Score, projection.Version));
        Assert.Equal(11, await db.EventCountAsync());
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Concurrent_increments_of_one_score_never_lose_an_update()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        const int Writers = 16, PerWriter = 25;

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                await db.Store.ApplyAsync(ScoreEvent.Add($"w{w}-{i}", "hot-user", "hot-concept", 1), Ct);
            }
        })));

        var projection = await db.Store.GetAsync("hot-user", "hot-concept", Ct);
        Assert.Equal((double)(Writers * PerWriter), projection!.Score);
        Assert.Equal(Writers * PerWriter, projection.Version);
        Assert.Equal(Writers * PerWriter, await db.ScalarAsync("SELECT count(DISTINCT result_version) FROM {s}.score_events"));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Whole_lifecycle_works_through_PgBouncer_in_transaction_mode()
    {
        await using var db = await ScoringDatabase.CreateAsync(await services.PgBouncerAsync());

        // Concurrent schema creation through the pooler: the transaction-scoped advisory lock serialises it.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => db.Store.EnsureSchemaAsync(Ct)));
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            db.Store.ApplyAsync(ScoreEvent.Add($"e{i}", $"u{i % 4}", "c", 1), Ct)));
        var batch = await db.Store.ApplyBatchAsync([ScoreEvent.Add("b1", "u0", "c", 1), ScoreEvent.Set("b2", "u1", "c", 7)], Ct);
        await db.ExecuteAsync("UPDATE {s}.score_projection SET score = score + 1 WHERE user_id = 'u2'");

        var mismatches = await db.Store.VerifyAsync(cancellationToken: Ct);
        var repaired = await db.Store.RebuildAsync(cancellationToken: Ct);

        Assert.All(results, r => Assert.False(r.IsDuplicate));
        Assert.Equal((11.0, 11L), (batch[0].Score, batch[0].Version));
        Assert.Equal((7.0, 11L), (batch[1].Score, batch[1].Version));
        Assert.Equal(new ScoreMismatch("u2", "c", 11m, 10, 10m, 10), Assert.Single(mismatches));
        Assert.Equal(mismatches, repaired);
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Schema_is_created_on_first_use_when_nobody_called_EnsureSchema()
    {
        await using var db = await ScoringDatabase.CreateAsync(await services.PostgresAsync(), ensureSchema: false);

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => db.Store.ApplyAsync(ScoreEvent.Add($"e{i}", "u", "c", 1), Ct)));

        Assert.Equal(6, results.Max(r => r.Version));
        Assert.Equal(1, await db.ScalarAsync("SELECT value::bigint FROM {s}.scoring_meta WHERE key = 'schema_version'"));
    }

    [Fact]
    public async Task A_data_source_whose_connections_are_not_Npgsql_fails_clearly()
    {
        using var store = new ScoreStore(new NotNpgsqlDataSource(), new ScoringOptions { CreateSchemaOnFirstUse = false });

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => store.ApplyAsync(ScoreEvent.Add("e", "u", "c", 1), Ct));

        Assert.Contains("NpgsqlConnection", error.Message);
        Assert.Contains(typeof(NotNpgsqlDataSource).FullName!, error.Message);
        Assert.Contains(typeof(NotNpgsqlConnection).FullName!, error.Message);
    }
}
