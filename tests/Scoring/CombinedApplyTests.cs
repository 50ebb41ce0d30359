using Npgsql;
using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

/// <summary>
/// Concurrent <see cref="ScoreStore.ApplyAsync"/> calls that share one statement (<see cref="ScoringOptions.CombineApplies"/>).
/// Each test holds a row lock from another transaction so that the store's only statement slot is busy, queues the events
/// it wants to combine while it waits, and only then lets the database go on: what ends up in one statement is known.
/// </summary>
public sealed class CombinedApplyTests(ServiceFixture services)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Queued_applies_share_one_statement_and_each_caller_gets_its_own_result()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.MaxConcurrentApplyBatches = 1);
        await using var gate = await BlockedSlot.OpenAsync(db, Ct);

        var queued = Enumerable.Range(0, 12).Select(i => db.Store.ApplyAsync(ScoreEvent.Add($"e{i}", $"u{i % 3}", "c", i + 1), Ct)).ToArray();
        await gate.WaitUntilQueuedAsync(queued.Length);
        await gate.ReleaseAsync();
        var results = await Task.WhenAll(queued);

        Assert.Equal(1, db.Store.SharedApplyBatches);
        for (var user = 0; user < 3; user++)
        {
            // Each user's events keep their call order inside the shared statement: versions 1..4, running sums.
            var mine = Enumerable.Range(0, 12).Where(i => i % 3 == user).ToArray();
            Assert.Equal([1L, 2L, 3L, 4L], mine.Select(i => results[i].Version));
            Assert.Equal(mine.Select((_, k) => (double)mine.Take(k + 1).Sum(i => i + 1)), mine.Select(i => results[i].Score));
            Assert.All(mine, i => Assert.Equal(($"e{i}", $"u{user}", false), (results[i].EventId, results[i].UserId, results[i].IsDuplicate)));
        }

        Assert.Equal(2 + 12, await db.EventCountAsync()); // the blocker's two events and the twelve
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_bad_event_in_a_shared_statement_fails_only_its_own_caller()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o =>
        {
            o.MaxConcurrentApplyBatches = 1;
            o.MinScore = 0;
            o.MaxScore = 100;
        });
        await db.Store.ApplyAsync(ScoreEvent.Set("taken", "u-old", "c", 5), Ct);
        await using var gate = await BlockedSlot.OpenAsync(db, Ct);

        var good = Enumerable.Range(0, 6).Select(i => db.Store.ApplyAsync(ScoreEvent.Add($"g{i}", $"u{i}", "c", 1), Ct)).ToArray();
        var stale = db.Store.ApplyAsync(ScoreEvent.Add("stale", "u0", "c", 1) with { ExpectedVersion = 7 }, Ct);
        var reused = db.Store.ApplyAsync(ScoreEvent.Add("taken", "u1", "c", 1), Ct);
        var tooHigh = db.Store.ApplyAsync(ScoreEvent.Add("over", "u2", "c", 100), Ct);
        var duplicate = db.Store.ApplyAsync(ScoreEvent.Set("taken", "u-old", "c", 5), Ct);
        await gate.WaitUntilQueuedAsync(good.Length + 4);
        await gate.ReleaseAsync();

        var results = await Task.WhenAll(good);
        Assert.All(results, r => Assert.Equal((1.0, 1L, false), (r.Score, r.Version, r.IsDuplicate)));
        var conflict = await Assert.ThrowsAsync<ScoreVersionConflictException>(() => stale);
        Assert.Equal(("stale", 7L), (conflict.EventId, conflict.ExpectedVersion));
        Assert.Equal("taken", (await Assert.ThrowsAsync<EventIdReusedException>(() => reused)).EventId);
        Assert.Equal("over", (await Assert.ThrowsAsync<ScoreBoundsExceededException>(() => tooHigh)).EventId);
        var first = await duplicate;
        Assert.Equal((5.0, 1L, true), (first.Score, first.Version, first.IsDuplicate));

        // The shared statement rolled back as a whole and its events were applied one by one: only the good ones are logged.
        Assert.Equal(1 + 2 + good.Length, await db.EventCountAsync()); // 'taken', the blocker's two events, the good ones
        Assert.Equal(0, await db.ScalarAsync("SELECT count(*) FROM {s}.score_events WHERE event_id IN ('stale', 'over')"));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task An_apply_cancelled_while_queued_is_never_written()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.MaxConcurrentApplyBatches = 1);
        await using var gate = await BlockedSlot.OpenAsync(db, Ct);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var kept = db.Store.ApplyAsync(ScoreEvent.Add("kept", "u1", "c", 1), Ct);
        var dropped = db.Store.ApplyAsync(ScoreEvent.Add("dropped", "u2", "c", 1), cancel.Token);
        await gate.WaitUntilQueuedAsync(2);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped);
        await gate.ReleaseAsync();

        Assert.Equal((1.0, 1L), ((await kept).Score, (await kept).Version));
        Assert.Equal(0, await db.ScalarAsync("SELECT count(*) FROM {s}.score_events WHERE event_id = 'dropped'"));
        Assert.Null(await db.Store.GetAsync("u2", "c", Ct));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_caller_whose_statement_is_in_flight_stops_waiting_when_cancelled_and_the_statement_still_completes()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.MaxConcurrentApplyBatches = 1);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await using var gate = await BlockedSlot.OpenAsync(db, cancel.Token);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.Blocked);

        // The statement was already sent: it waits on the row lock, then applies; a retry with the same id gets its result.
        await gate.ReleaseAsync();
        var retried = await db.Store.ApplyAsync(ScoreEvent.Add("blocker-waits", "blocker", "c", 1), Ct);
        Assert.Equal((2.0, 2L, true), (retried.Score, retried.Version, retried.IsDuplicate));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task With_combining_off_every_apply_is_its_own_statement()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.CombineApplies = false);

        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() => db.Store.ApplyAsync(ScoreEvent.Add($"e{i}", "u", "c", 1), Ct))));

        Assert.Equal(0, db.Store.SharedApplyBatches);
        Assert.Equal(Enumerable.Range(1, 32).Select(v => (long)v), results.Select(r => r.Version).Order());
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }
}
