using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

/// <summary>
/// No value is ever rounded on the way in: a value is stored exactly as its shortest round-trip decimal, or refused with
/// <see cref="ScoreRejectionReason.TooPrecise"/> when that needs more than 15 significant digits or 12 decimal places.
/// </summary>
public sealed class PrecisionTests(ServiceFixture services)
{
    private static readonly ScoringOptions Options = new() { MinScore = 0, MaxScore = 100 };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(double.Epsilon)]
    [InlineData(-double.Epsilon)]
    [InlineData(-1e-300)]
    [InlineData(1e-13)]
    [InlineData(0.30000000000000004)]
    [InlineData(1.0 / 3)]
    [InlineData(12.345678901234567)]
    [InlineData(1.5e-20)]
    public void Values_that_cannot_be_stored_exactly_are_refused_as_too_precise(double value)
    {
        var error = ScoreEventValidator.Check(ScoreEvent.Add("e", "u", "c", value), Options);

        Assert.NotNull(error);
        Assert.Equal(("Value", ScoreRejectionReason.TooPrecise), (error.Field, error.Reason));
        Assert.Contains("MaxSignificantDigits", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxDecimalPlaces", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2.5)]
    [InlineData(0.1)]
    [InlineData(0.3)]
    [InlineData(1e-12)]
    [InlineData(-0.000001)]
    [InlineData(99.123456789012)]
    [InlineData(0)]
    public void Ordinary_values_pass_and_convert_to_a_decimal_that_reads_back_as_the_same_double(double value)
    {
        Assert.Null(ScoreEventValidator.Check(ScoreEvent.Add("e", "u", "c", value), Options));
        Assert.Equal(value, (double)ExactScore.ToDecimal(value));
        Assert.Equal(decimal.Parse(value.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture), ExactScore.ToDecimal(value));
    }

    [Fact]
    public void Bounds_must_be_exact_too()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => new ScoreStore(new NotNpgsqlDataSource(), new ScoringOptions { MinScore = -1e-300, MaxScore = 0.30000000000000004 }));

        Assert.Equal(2, error.Failures.Count());
        Assert.All(error.Failures, f => Assert.Contains("stored exactly", f, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tiny_and_over_precise_values_are_refused_before_sql_and_nearby_exact_values_keep_their_own_meaning()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => (o.MinScore, o.MaxScore) = (0, 100));
        await db.Store.ApplyAsync(ScoreEvent.Set("r0", "u", "c", 0), Ct);
        var before = await db.SnapshotAsync();

        foreach (var e in new[]
        {
            ScoreEvent.Add("r1", "u", "c", double.Epsilon),
            ScoreEvent.Add("r2", "u", "c", -1e-300),
            ScoreEvent.Set("r4", "u", "c", 0.30000000000000004),
        })
        {
            var error = await Assert.ThrowsAsync<ScoreValidationException>(() => db.Store.ApplyAsync(e, Ct));
            Assert.Equal(ScoreRejectionReason.TooPrecise, error.Reason);
        }

        Assert.Equal(before, await db.SnapshotAsync());

        // The smallest storable step below the minimum is a bounds error from the database, not a silent 0.
        await Assert.ThrowsAsync<ScoreBoundsExceededException>(() => db.Store.ApplyAsync(ScoreEvent.Add("r3", "u", "c", -1e-12), Ct));

        // 0.3 is stored as exactly 0.3; reusing its id with another value is a reuse, not a duplicate.
        Assert.Equal(0.3, (await db.Store.ApplyAsync(ScoreEvent.Set("r5", "u", "c", 0.3), Ct)).Score);
        Assert.Equal(0.300000000001, (await db.Store.ApplyAsync(ScoreEvent.Add("r6", "u", "c", 1e-12), Ct)).Score);
        await Assert.ThrowsAsync<EventIdReusedException>(() => db.Store.ApplyAsync(ScoreEvent.Set("r5", "u", "c", 0.31), Ct));
        Assert.Equal(1, await db.ScalarAsync("SELECT count(*) FROM {s}.score_events WHERE event_id = 'r6' AND value = 0.000000000001"));
    }

    public static Arbitrary<double> AnyValue() => Gen.OneOf(
            ArbMap.Default.GeneratorFor<double>(),
            from mantissa in Gen.Choose(-999_999, 999_999)
            from scale in Gen.Choose(0, 16)
            select (double)(mantissa / (decimal)Math.Pow(10, scale)),
            from a in Gen.Choose(0, 100)
            from b in Gen.Choose(1, 100)
            select a / (double)b,
            Gen.Elements(double.Epsilon, -1e-300, 1e-12, 1e-13, 0.1 + 0.2, 0.3))
        .ToArbitrary();

    [Property(MaxTest = 500, Arbitrary = [typeof(PrecisionTests)])]
    public void Every_value_is_either_refused_or_stored_as_a_decimal_that_reads_back_as_exactly_the_same_double(double value)
    {
        var options = new ScoringOptions { MinScore = -1_000_000, MaxScore = 1_000_000 };
        var error = ScoreEventValidator.Check(ScoreEvent.Set("e", "u", "c", value), options);
        if (error is null)
        {
            var exact = ExactScore.ToDecimal(value);
            Assert.Equal(value, (double)exact);
            Assert.True(exact.Scale <= ScoringOptions.MaxDecimalPlaces);
            Assert.True(exact == 0 || Math.Abs(exact) >= 1e-12m);
        }
        else
        {
            Assert.Contains(error.Reason, new[] { ScoreRejectionReason.TooPrecise, ScoreRejectionReason.OutOfRange, ScoreRejectionReason.NotANumber, ScoreRejectionReason.Infinity });
            if (error.Reason == ScoreRejectionReason.TooPrecise)
            {
                // Refused only when 15 significant digits or 12 decimal places would really have changed it.
                var g15 = value.ToString("G15", CultureInfo.InvariantCulture);
                var needsMoreDigits = double.Parse(g15, CultureInfo.InvariantCulture) != value;
                var needsMorePlaces = !decimal.TryParse(g15, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
                    || parsed.Scale > ScoringOptions.MaxDecimalPlaces || (parsed == 0 && value != 0);
                Assert.True(needsMoreDigits || needsMorePlaces, $"{value:R} was refused");
            }
        }
    }

    [Property(MaxTest = 8, Arbitrary = [typeof(PrecisionTests)])]
    public async Task Accepted_values_are_stored_exactly_and_read_back_unchanged_and_refused_ones_write_nothing(double[] values)
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        for (var i = 0; i < values.Length; i++)
        {
            var e = ScoreEvent.Set($"e{i}", "u", $"c{i}", values[i]);
            if (ScoreEventValidator.Check(e, db.Options) is null)
            {
                Assert.Equal(values[i], (await db.Store.ApplyAsync(e, Ct)).Score);
                Assert.Equal(values[i], (await db.Store.GetAsync("u", $"c{i}", Ct))!.Score);
            }
            else
            {
                await Assert.ThrowsAsync<ScoreValidationException>(() => db.Store.ApplyAsync(e, Ct));
                Assert.Null(await db.Store.GetAsync("u", $"c{i}", Ct));
            }
        }

        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }
}
