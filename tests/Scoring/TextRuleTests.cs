using FsCheck.Xunit;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

/// <summary>
/// Text PostgreSQL cannot store (a lone UTF-16 surrogate, a NUL character) is refused with a <see cref="ScoreValidationException"/>
/// before any SQL, in every method that takes an id, never as a raw encoder or server error.
/// </summary>
public sealed class TextRuleTests(ServiceFixture services)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Property(MaxTest = 40, Arbitrary = [typeof(ScoringArbitraries)])]
    public async Task Unstorable_text_in_any_id_is_rejected_single_and_in_a_batch_and_nothing_is_written(UnstorableString bad)
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        using var meterFactory = new TestMeterFactory();
        using var store = new ScoreStore(db.DataSource, db.Options, db.Time, null, meterFactory);
        using var rejected = new MetricCollector<long>(meterFactory, "Resilience.Scoring", "resilience.scoring.events.rejected");
        await store.ApplyAsync(ScoreEvent.Add("seed", "u", "c", 1), Ct);
        var before = await db.SnapshotAsync();
        var good = ScoreEvent.Add("e-ok", "u", "c", 1);
        var cases = new (string Field, ScoreEvent Event)[]
        {
            ("EventId", good with { EventId = bad.Text }),
            ("UserId", good with { UserId = bad.Text }),
            ("Concept", good with { Concept = bad.Text }),
            ("Source", good with { Source = bad.Text }),
        };

        foreach (var (field, hostile) in cases)
        {
            var single = await Assert.ThrowsAsync<ScoreValidationException>(() => store.ApplyAsync(hostile, Ct));
            Assert.Equal((field, bad.Reason, (int?)null), (single.Field, single.Reason, single.BatchIndex));
            Assert.StartsWith(field, single.Message, StringComparison.Ordinal);

            var inBatch = await Assert.ThrowsAsync<ScoreValidationException>(() => store.ApplyBatchAsync(
                [ScoreEvent.Add("fine-1", "u", "c", 1), ScoreEvent.Add("fine-2", "v", "c", 1), hostile, ScoreEvent.Add("fine-3", "u", "c", 1)], Ct));
            Assert.Equal((field, bad.Reason, (int?)2), (inBatch.Field, inBatch.Reason, inBatch.BatchIndex));
            Assert.Contains("batch index 2", inBatch.Message, StringComparison.Ordinal);
        }

        var lookups = new (string Field, Func<Task> Call)[]
        {
            ("userId", () => store.GetAsync(bad.Text, "c", Ct)),
            ("concept", () => store.GetAsync("u", bad.Text, Ct)),
            ("ScoreScope.UserIds[1]", () => store.VerifyAsync(ScoreScope.ForUsers("u", bad.Text), Ct)),
            ("ScoreScope.Concepts[0]", () => store.RebuildAsync(ScoreScope.ForConcepts(bad.Text), Ct)),
        };
        foreach (var (field, call) in lookups)
        {
            var error = await Assert.ThrowsAsync<ScoreValidationException>(call);
            Assert.Equal((field, bad.Reason), (error.Field, error.Reason));
        }

        Assert.Equal(before, await db.SnapshotAsync());
        var reason = bad.Reason == ScoreRejectionReason.InvalidText ? "invalid_text" : "invalid_character";
        var measurements = rejected.GetMeasurementSnapshot();
        Assert.Equal(cases.Length * 2 + lookups.Length, measurements.Count);
        Assert.All(measurements, m => Assert.Equal(reason, m.Tags["resilience.scoring.rejection.reason"]));
    }

    [Fact]
    public async Task Well_formed_surrogate_pairs_are_stored_and_read_back_unchanged()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        const string User = "student-\uD83D\uDE00", Concept = "\uD835\uDC65-algebra";

        var result = await db.Store.ApplyAsync(ScoreEvent.Add("e-\uD83C\uDF89", User, Concept, 2) with { Source = "\uD83D\uDCDD" }, Ct);

        Assert.Equal((User, Concept, 2d), (result.UserId, result.Concept, result.Score));
        Assert.Equal(2, (await db.Store.GetAsync(User, Concept, Ct))!.Score);
        Assert.Empty(await db.Store.VerifyAsync(ScoreScope.ForUsers(User), Ct));
    }

    [Theory]
    [InlineData(new[] { 'a', '\uD800' }, 1)]
    [InlineData(new[] { '\uDC00', 'a' }, 0)]
    [InlineData(new[] { '\uD83D', '\uDE00', '\uDE00' }, 2)]
    [InlineData(new[] { '\uD83D', '\uD83D', '\uDE00' }, 0)]
    [InlineData(new[] { 'o', 'k', '\uD83D', '\uDE00' }, -1)]
    [InlineData(new char[0], -1)]
    public void Lone_surrogates_are_found_at_their_position(char[] text, int expected) =>
        Assert.Equal(expected, ScoreEventValidator.IndexOfLoneSurrogate(text));
}
