using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

public sealed class BatchTests(ServiceFixture services)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Batch_returns_one_result_per_event_in_the_order_given_and_applies_same_key_events_in_list_order()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        ScoreEvent[] events =
        [
            ScoreEvent.Add("b1", "zed", "c", 1),
            ScoreEvent.Add("b2", "amy", "c", 2),
            ScoreEvent.Set("b3", "zed", "c", 10),
            ScoreEvent.Add("b4", "amy", "c", 3),
            ScoreEvent.Add("b5", "zed", "c", -4),
            ScoreEvent.Add("b2", "amy", "c", 2),
        ];

        var results = await db.Store.ApplyBatchAsync(events, Ct);

        Assert.Equal(
            [
                new ScoreResult("b1", "zed", "c", 1, 1, false),
                new ScoreResult("b2", "amy", "c", 2, 1, false),
                new ScoreResult("b3", "zed", "c", 10, 2, false),
                new ScoreResult("b4", "amy", "c", 5, 2, false),
                new ScoreResult("b5", "zed", "c", 6, 3, false),
                new ScoreResult("b2", "amy", "c", 2, 1, true),
            ],
            results);
        Assert.Equal(5, await db.EventCountAsync());
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));

        var again = await db.Store.ApplyBatchAsync(events, Ct);
        Assert.All(again, r => Assert.True(r.IsDuplicate));
        Assert.Equal(results.Select(r => (r.Score, r.Version)), again.Select(r => (r.Score, r.Version)));
        Assert.Equal(5, await db.EventCountAsync());
    }

    [Fact]
    public async Task An_invalid_event_anywhere_in_a_batch_rejects_the_batch_before_any_SQL()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        await db.Store.ApplyAsync(ScoreEvent.Add("seed", "u", "c", 1), Ct);
        var before = await db.SnapshotAsync();

        var error = await Assert.ThrowsAsync<ScoreValidationException>(() => db.Store.ApplyBatchAsync(
            [ScoreEvent.Add("ok1", "u", "c", 1), ScoreEvent.Add("ok2", "u", "c", 1), ScoreEvent.Add("bad", "u", "c", null)], Ct));

        Assert.Equal((2, "Value", ScoreRejectionReason.Null, "bad"), (error.BatchIndex!.Value, error.Field, error.Reason, error.EventId));
        Assert.Equal(before, await db.SnapshotAsync());
    }

    [Fact]
    public async Task A_conflict_or_a_bounds_violation_inside_a_batch_writes_nothing_from_the_batch()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => (o.MinScore, o.MaxScore) = (0, 100));
        await db.Store.ApplyAsync(ScoreEvent.Add("seed", "u1", "c", 50), Ct);
        var before = await db.SnapshotAsync();

        var conflict = await Assert.ThrowsAsync<ScoreVersionConflictException>(() => db.Store.ApplyBatchAsync(
            [ScoreEvent.Add("a", "u0", "c", 1), ScoreEvent.Add("b", "u1", "c", 1) with { ExpectedVersion = 7 }, ScoreEvent.Add("c", "u2", "c", 1)], Ct));
        Assert.Equal(("b", 7L, 1L), (conflict.EventId, conflict.ExpectedVersion, conflict.ActualVersion));

        var bounds = await Assert.ThrowsAsync<ScoreBoundsExceededException>(() => db.Store.ApplyBatchAsync(
            [ScoreEvent.Add("d", "u0", "c", 1), ScoreEvent.Add("e", "u1", "c", 60)], Ct));
        Assert.Null(bounds.EventId);

        var reused = await Assert.ThrowsAsync<EventIdReusedException>(() => db.Store.ApplyBatchAsync(
            [ScoreEvent.Add("f", "u0", "c", 1), ScoreEvent.Add("seed", "u1", "c", 49)], Ct));
        Assert.Equal("seed", reused.EventId);

        Assert.Equal(before, await db.SnapshotAsync());
    }

    [Fact]
    public async Task Empty_batch_is_a_no_op_and_an_oversized_batch_is_refused()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.MaxBatchSize = 3);

        Assert.Empty(await db.Store.ApplyBatchAsync([], Ct));
        var error = await Assert.ThrowsAsync<ScoreValidationException>(() => db.Store.ApplyBatchAsync(
            [.. Enumerable.Range(0, 4).Select(i => ScoreEvent.Add($"e{i}", "u", "c", 1))], Ct));

        Assert.Equal((ScoreRejectionReason.TooLong, "events"), (error.Reason, error.Field));
        Assert.Contains("MaxBatchSize = 3", error.Message);
        Assert.Equal(0, await db.EventCountAsync());
    }

    [Fact]
    public async Task Concurrent_batches_over_overlapping_keys_neither_deadlock_nor_lose_updates()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        const int Writers = 8, BatchesPerWriter = 6, BatchSize = 20;
        var users = Enumerable.Range(0, 6).Select(u => $"user-{u}").ToArray();

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            for (var b = 0; b < BatchesPerWriter; b++)
            {
                var batch = Enumerable.Range(0, BatchSize)
                    .Select(i => ScoreEvent.Add($"w{w}-b{b}-{i}", users[random.Next(users.Length)], "c", 1))
                    .ToArray();
                await db.Store.ApplyBatchAsync(batch, Ct);
            }
        })));

        Assert.Equal(Writers * BatchesPerWriter * BatchSize, await db.ScalarAsync("SELECT sum(score)::bigint FROM {s}.score_projection"));
        Assert.Equal(Writers * BatchesPerWriter * BatchSize, await db.ScalarAsync("SELECT sum(version) FROM {s}.score_projection"));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }
}
