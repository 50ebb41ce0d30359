namespace Resilience.Scoring.Tests;

/// <summary>The pure rules, without a database: messages a person can act on.</summary>
public sealed class ValidationTests
{
    private static readonly ScoringOptions Options = new() { MinScore = 0, MaxScore = 100, MaxIdLength = 10 };

    [Fact]
    public void Null_value_names_the_field_the_event_and_the_rule()
    {
        var error = ScoreEventValidator.Check(ScoreEvent.Add("sub-1", "u", "c", null), Options);

        Assert.NotNull(error);
        Assert.Equal(("Value", ScoreRejectionReason.Null, "sub-1"), (error.Field, error.Reason, error.EventId));
        Assert.Contains("'sub-1'", error.Message);
        Assert.Contains("never 'keep the old score'", error.Message);
    }

    [Fact]
    public void Null_event_is_rejected()
    {
        var error = ScoreEventValidator.Check(null, Options, 3);

        Assert.Equal(("Event", ScoreRejectionReason.Null, (int?)3), (error!.Field, error.Reason, error.BatchIndex));
    }

    [Theory]
    [InlineData(ScoreChangeKind.Set, 0, true)]
    [InlineData(ScoreChangeKind.Set, 100, true)]
    [InlineData(ScoreChangeKind.Set, 100.0000001, false)]
    [InlineData(ScoreChangeKind.Set, -0.0000001, false)]
    [InlineData(ScoreChangeKind.Add, -100, true)]
    [InlineData(ScoreChangeKind.Add, 100, true)]
    [InlineData(ScoreChangeKind.Add, 100.5, false)]
    [InlineData(ScoreChangeKind.Add, -101, false)]
    public void Range_is_checked_per_kind(ScoreChangeKind kind, double value, bool valid)
    {
        var error = ScoreEventValidator.Check(new ScoreEvent("e", "u", "c", kind, value), Options);

        Assert.Equal(valid, error is null);
        if (!valid)
        {
            Assert.Equal(ScoreRejectionReason.OutOfRange, error!.Reason);
            Assert.Contains(kind == ScoreChangeKind.Set ? "MaxScore = 100" : "MaxScore - MinScore", error.Message);
        }
    }

    [Fact]
    public void Ids_at_the_length_limit_pass_and_one_more_character_fails()
    {
        Assert.Null(ScoreEventValidator.Check(ScoreEvent.Add(new string('e', 10), new string('u', 10), new string('c', 10), 1) with { Source = new string('s', 10) }, Options));

        var error = ScoreEventValidator.Check(ScoreEvent.Add("e", "u", new string('c', 11), 1), Options);
        Assert.Equal(("Concept", ScoreRejectionReason.TooLong), (error!.Field, error.Reason));
        Assert.Contains("MaxIdLength = 10", error.Message);
    }

    [Fact]
    public void Expected_version_zero_is_valid_and_negative_is_not()
    {
        Assert.Null(ScoreEventValidator.Check(ScoreEvent.Add("e", "u", "c", 1) with { ExpectedVersion = 0 }, Options));
        Assert.Equal(ScoreRejectionReason.Negative, ScoreEventValidator.Check(ScoreEvent.Add("e", "u", "c", 1) with { ExpectedVersion = -1 }, Options)!.Reason);
    }
}
