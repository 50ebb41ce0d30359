using FsCheck.Xunit;
using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

/// <summary>Properties over generated inputs, each run against a fresh schema on the real PostgreSQL.</summary>
public sealed class ScoringProperties(ServiceFixture services)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Property(MaxTest = 25, Arbitrary = [typeof(ScoringArbitraries)])]
    public async Task Valid_events_applied_concurrently_in_any_order_fold_to_the_projection_and_reapplying_any_subset_changes_nothing(
        ConcurrentScript script, bool oneStatementSlot)
    {
        // Concurrent single applies share statements (CombineApplies is on by default); one slot makes them share the most.
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.MaxConcurrentApplyBatches = oneStatementSlot ? 1 : ScoringOptions.DefaultMaxConcurrentApplyBatches);
        var events = script.Events
            .Select((p, i) => new ScoreEvent($"ev-{i}", $"user-{p.User}", $"concept-{p.Concept}", p.Kind, (double)p.Value))
            .ToArray();

        // Writers take events round-robin; odd writers send theirs as small batches, even writers one at a time.
        var results = new ScoreResult[events.Length];
        await Task.WhenAll(Enumerable.Range(0, script.Writers).Select(w => Task.Run(async () =>
        {
            var mine = Enumerable.Range(0, events.Length).Where(i => i % script.Writers == w).ToArray();
            if (w % 2 == 1)
            {
                foreach (var chunk in mine.Chunk(4))
                {
                    var batch = await db.Store.ApplyBatchAsync([.. chunk.Select(i => events[i])], Ct);
                    for (var k = 0; k < chunk.Length; k++)
                    {
                        results[chunk[k]] = batch[k];
                    }
                }
            }
            else
            {
                foreach (var i in mine)
                {
                    results[i] = await db.Store.ApplyAsync(events[i], Ct);
                }
            }
        })));

        // The projection is exactly the fold of the log.
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
        Assert.Equal(events.Length, await db.EventCountAsync());
        Assert.All(results, r => Assert.False(r.IsDuplicate));

        foreach (var key in events.Select((e, i) => (e, i)).GroupBy(x => (x.e.UserId, x.e.Concept)))
        {
            var projection = await db.Store.GetAsync(key.Key.UserId, key.Key.Concept, Ct);
            Assert.NotNull(projection);

            // Every event of a key got its own version, 1..n, and the last one is the projection's.
            Assert.Equal(Enumerable.Range(1, key.Count()).Select(v => (long)v), key.Select(x => results[x.i].Version).Order());
            Assert.Equal(key.Count(), projection.Version);
            var last = key.Select(x => results[x.i]).MaxBy(r => r.Version)!;
            Assert.Equal(last.Score, projection.Score);

            // Without a Set, order cannot matter: the score is the plain sum of the deltas (nothing lost, nothing doubled).
            if (key.All(x => x.e.Kind == ScoreChangeKind.Add))
            {
                Assert.Equal((double)key.Sum(x => (decimal)x.e.Value!.Value), projection.Score);
            }
        }

        // Re-applying any subset, concurrently, changes nothing and returns the first results.
        var before = await db.SnapshotAsync();
        var again = await Task.WhenAll(script.ReapplyIndices.Select(i => Task.Run(() => db.Store.ApplyAsync(events[i], Ct))));
        Assert.Equal(before, await db.SnapshotAsync());
        for (var k = 0; k < again.Length; k++)
        {
            Assert.Equal(results[script.ReapplyIndices[k]] with { IsDuplicate = true }, again[k]);
        }
    }

    [Property(MaxTest = 60, Arbitrary = [typeof(ScoringArbitraries)])]
    public async Task Hostile_inputs_are_always_rejected_naming_field_and_reason_and_leave_both_tables_unchanged(HostileEvent hostile)
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.MaxIdLength = ScoringArbitraries.MaxIdLength);
        await db.Store.ApplyAsync(ScoreEvent.Add("seed", "u", "c", 1), Ct);
        var before = await db.SnapshotAsync();

        var single = await Assert.ThrowsAsync<ScoreValidationException>(() => db.Store.ApplyAsync(hostile.Event, Ct));
        var inBatch = await Assert.ThrowsAsync<ScoreValidationException>(() => db.Store.ApplyBatchAsync(
            [ScoreEvent.Add("fine-1", "u", "c", 1), hostile.Event, ScoreEvent.Add("fine-2", "u", "c", 1)], Ct));

        Assert.Equal((hostile.Field, hostile.Reason), (single.Field, single.Reason));
        Assert.Null(single.BatchIndex);
        Assert.Contains(hostile.Field, single.Message);
        Assert.Equal((hostile.Field, hostile.Reason, (int?)1), (inBatch.Field, inBatch.Reason, inBatch.BatchIndex));
        Assert.Equal(before, await db.SnapshotAsync());
    }
}
