using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

public sealed class RebuildTests(ServiceFixture services)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task SeedAsync(ScoringDatabase db, int count, int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i += 25)
        {
            var batch = Enumerable.Range(i, Math.Min(25, count - i)).Select(n =>
            {
                var user = $"user-{random.Next(8)}";
                var concept = $"concept-{random.Next(3)}";
                return random.Next(6) == 0
                    ? ScoreEvent.Set($"e{n}", user, concept, random.Next(0, 400) / 4.0)
                    : ScoreEvent.Add($"e{n}", user, concept, random.Next(-40, 41) / 4.0);
            }).ToArray();
            db.Time.Advance(TimeSpan.FromSeconds(1));
            await db.Store.ApplyBatchAsync(batch, Ct);
        }
    }

    [Fact]
    public async Task Rebuild_from_the_log_equals_the_live_projection()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        await SeedAsync(db, 300, seed: 1);
        var live = await db.SnapshotAsync();

        Assert.Empty(await db.Store.RebuildAsync(cancellationToken: Ct));
        Assert.Equal(live, await db.SnapshotAsync());

        // Throw the whole projection away: the log alone rebuilds it, updated-at included.
        await db.ExecuteAsync("DELETE FROM {s}.score_projection");
        var repaired = await db.Store.RebuildAsync(cancellationToken: Ct);

        Assert.Equal(await db.ScalarAsync("SELECT count(DISTINCT (user_id, concept)) FROM {s}.score_events"), repaired.Count);
        Assert.All(repaired, m => Assert.Null(m.ProjectedVersion));
        Assert.Equal(live, await db.SnapshotAsync());
    }

    [Fact]
    public async Task Verify_lists_every_corrupted_row_and_rebuild_repairs_exactly_those()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        await db.Store.ApplyBatchAsync(
        [
            ScoreEvent.Add("a1", "ann", "x", 3), ScoreEvent.Add("a2", "ann", "x", 4),
            ScoreEvent.Set("b1", "bob", "x", 10), ScoreEvent.Add("b2", "bob", "x", -2.5),
            ScoreEvent.Add("c1", "cat", "x", 1),
            ScoreEvent.Add("d1", "dan", "x", 6),
        ], Ct);
        var clean = await db.SnapshotAsync();

        await db.ExecuteAsync("UPDATE {s}.score_projection SET score = score + 1 WHERE user_id = 'ann'");
        await db.ExecuteAsync("UPDATE {s}.score_projection SET version = 9 WHERE user_id = 'bob'");
        await db.ExecuteAsync("DELETE FROM {s}.score_projection WHERE user_id = 'cat'");
        await db.ExecuteAsync("INSERT INTO {s}.score_projection VALUES ('eve', 'x', 42, 1, now())");

        ScoreMismatch[] expected =
        [
            new("ann", "x", 8m, 2, 7m, 2),
            new("bob", "x", 7.5m, 9, 7.5m, 2),
            new("cat", "x", null, null, 1m, 1),
            new("eve", "x", 42m, 1, null, null),
        ];
        Assert.Equal(expected, await db.Store.VerifyAsync(cancellationToken: Ct));
        Assert.Equal(expected, await db.Store.RebuildAsync(cancellationToken: Ct));

        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
        Assert.Equal(clean, await db.SnapshotAsync());
    }

    [Fact]
    public async Task Scoped_verify_and_rebuild_touch_only_the_named_users_or_concepts()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        await db.Store.ApplyBatchAsync(
        [
            ScoreEvent.Add("1", "ann", "x", 1), ScoreEvent.Add("2", "ann", "y", 1),
            ScoreEvent.Add("3", "bob", "x", 1), ScoreEvent.Add("4", "bob", "y", 1),
        ], Ct);
        await db.ExecuteAsync("UPDATE {s}.score_projection SET score = 0");

        Assert.Equal(2, (await db.Store.VerifyAsync(ScoreScope.ForUsers("ann"), Ct)).Count);
        Assert.Equal(["ann", "bob"], (await db.Store.VerifyAsync(ScoreScope.ForConcepts("x"), Ct)).Select(m => m.UserId));
        Assert.Single(await db.Store.VerifyAsync(new ScoreScope { UserIds = ["bob"], Concepts = ["y"] }, Ct));

        var repaired = await db.Store.RebuildAsync(ScoreScope.ForUsers("ann"), Ct);
        Assert.Equal([("ann", "x"), ("ann", "y")], repaired.Select(m => (m.UserId, m.Concept)));
        Assert.Equal([("bob", "x"), ("bob", "y")], (await db.Store.VerifyAsync(cancellationToken: Ct)).Select(m => (m.UserId, m.Concept)));

        Assert.Single(await db.Store.RebuildAsync(new ScoreScope { UserIds = ["bob"], Concepts = ["x"] }, Ct));
        Assert.Single(await db.Store.RebuildAsync(ScoreScope.ForConcepts("y"), Ct));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Rebuild_while_applies_run_loses_none_of_them()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        await SeedAsync(db, 100, seed: 2);
        await db.ExecuteAsync("UPDATE {s}.score_projection SET score = score + 100 WHERE user_id = 'user-1'");

        var applies = Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                await db.Store.ApplyAsync(ScoreEvent.Add($"live-{i}", $"user-{i % 8}", "concept-0", 1), Ct);
            }
        }, Ct);
        var rebuilds = Task.Run(async () =>
        {
            for (var i = 0; i < 5; i++)
            {
                await db.Store.RebuildAsync(cancellationToken: Ct);
            }
        }, Ct);
        await Task.WhenAll(applies, rebuilds);

        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
        Assert.Equal(250, await db.ScalarAsync("SELECT sum(version) FROM {s}.score_projection"));
    }
}
