using FsCheck;
using FsCheck.Fluent;

namespace Resilience.Scoring.Tests;

/// <summary>One valid change, as indices into small user and concept pools so keys collide often.</summary>
public sealed record PlannedEvent(int User, int Concept, ScoreChangeKind Kind, decimal Value);

/// <summary>A set of valid events, how many tasks apply them, and which of them are applied a second time.</summary>
public sealed record ConcurrentScript(PlannedEvent[] Events, int Writers, int[] ReapplyIndices)
{
    public override string ToString() =>
        $"{Events.Length} events by {Writers} writers, re-applying [{string.Join(",", ReapplyIndices)}]: " +
        string.Join(" ", Events.Select(e => $"{e.Kind}({e.User},{e.Concept},{e.Value})"));
}

/// <summary>An event with exactly one hostile field, and the field and reason the store must name.</summary>
public sealed record HostileEvent(ScoreEvent Event, string Field, ScoreRejectionReason Reason)
{
    public override string ToString() => $"{Field}/{Reason}: {Event}";
}

/// <summary>A string PostgreSQL text cannot store, and the reason the store must name.</summary>
public sealed record UnstorableString(string Text, ScoreRejectionReason Reason)
{
    public override string ToString() => $"{Reason}: [{string.Join(" ", Text.Select(c => ((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)))}]";
}

/// <summary>FsCheck generators for the scoring properties.</summary>
public static class ScoringArbitraries
{
    /// <summary>The bounds the property tests configure (<see cref="ScoringDatabase"/> defaults).</summary>
    public const double Min = -1_000_000, Max = 1_000_000;

    public const int MaxIdLength = 200;

    // Multiples of 0.25 keep every sum exact in both double and numeric, so the model can use plain arithmetic.
    private static readonly Gen<decimal> Quarter = Gen.Choose(-400, 400).Select(q => q / 4m);

    private static readonly Gen<PlannedEvent> Planned =
        from user in Gen.Choose(0, 3)
        from concept in Gen.Choose(0, 2)
        from isSet in Gen.Frequency((1, Gen.Constant(true)), (5, Gen.Constant(false)))
        from value in Quarter
        select new PlannedEvent(user, concept, isSet ? ScoreChangeKind.Set : ScoreChangeKind.Add, isSet ? Math.Abs(value) : value);

    public static Arbitrary<ConcurrentScript> Scripts() =>
        (from count in Gen.Choose(1, 60)
         from events in Gen.ArrayOf(Planned, count)
         from writers in Gen.Choose(1, 8)
         from reapply in Gen.SubListOf(Enumerable.Range(0, count).ToArray())
         select new ConcurrentScript(events, writers, [.. reapply])).ToArbitrary();

    private static readonly Gen<(string?, ScoreRejectionReason)> FixedBadStrings = Gen.Elements<(string?, ScoreRejectionReason)>(
            (null, ScoreRejectionReason.Null),
            (string.Empty, ScoreRejectionReason.Empty),
            ("   ", ScoreRejectionReason.Empty),
            ("\t\r\n", ScoreRejectionReason.Empty),
            (new string('x', MaxIdLength + 1), ScoreRejectionReason.TooLong),
            (new string('y', 5_000), ScoreRejectionReason.TooLong),
            ("nul\0inside", ScoreRejectionReason.InvalidCharacter),
            ("\0", ScoreRejectionReason.InvalidCharacter));

    /// <summary>
    /// Text PostgreSQL cannot store, with the reason the store must give: a lone high or low surrogate (or a NUL character)
    /// somewhere in otherwise valid text, which may also hold well-formed surrogate pairs.
    /// </summary>
    public static readonly Gen<(string Text, ScoreRejectionReason Reason)> UnstorableText =
        from prefix in Gen.Elements("", "u", "user-", "\uD83D\uDE00", "日本")
        from suffix in Gen.Elements("", "x", "-7", "\uD83D\uDE00", "ß")
        from bad in Gen.OneOf(
            Gen.Choose(0xD800, 0xDBFF).Select(c => ((char)c + "z", ScoreRejectionReason.InvalidText)),        // high, not followed by a low
            Gen.Choose(0xDC00, 0xDFFF).Select(c => ("z" + (char)c, ScoreRejectionReason.InvalidText)),        // low, not preceded by a high
            Gen.Choose(0xD800, 0xDBFF).Select(c => ((char)c + "\uD800", ScoreRejectionReason.InvalidText)),   // two highs in a row
            Gen.Choose(0xDC00, 0xDFFF).Select(c => ("\uDE00" + (char)c, ScoreRejectionReason.InvalidText)),   // two lows in a row
            Gen.Constant(("\0", ScoreRejectionReason.InvalidCharacter)))
        select (prefix + bad.Item1 + suffix, bad.Item2);

    /// <summary>Text the store must reject, for GetAsync and scopes.</summary>
    public static Arbitrary<UnstorableString> Unstorable() =>
        UnstorableText.Select(t => new UnstorableString(t.Text, t.Reason)).ToArbitrary();

    public static Arbitrary<HostileEvent> Hostile()
    {
        var ids = Gen.Elements("e-1", "user 7", "ß-concept", "日本", "'; DROP TABLE x; --", "a", "pair-\uD83D\uDE00-ok");
        var valid =
            from id in ids
            from user in ids
            from concept in ids
            from value in Quarter
            select ScoreEvent.Add(id, user, concept, (double)value);

        var badStrings = Gen.Frequency(
            (3, FixedBadStrings),
            (2, UnstorableText.Select(t => ((string?)t.Text, t.Reason))));

        var outOfRangeAdd = Gen.Elements(Max - Min + 1, -(Max - Min) - 0.5, 1e300, -1e300, double.MaxValue, double.MinValue);
        var outOfRangeSet = Gen.Elements(Max + 0.25, Min - 1, 1e20, -1e20, double.MaxValue);
        var badValues = Gen.OneOf(
            Gen.Constant<(double?, ScoreRejectionReason, bool)>((null, ScoreRejectionReason.Null, false)),
            Gen.Constant<(double?, ScoreRejectionReason, bool)>((double.NaN, ScoreRejectionReason.NotANumber, false)),
            Gen.Constant<(double?, ScoreRejectionReason, bool)>((-double.NaN, ScoreRejectionReason.NotANumber, true)),
            Gen.Constant<(double?, ScoreRejectionReason, bool)>((double.PositiveInfinity, ScoreRejectionReason.Infinity, false)),
            Gen.Constant<(double?, ScoreRejectionReason, bool)>((double.NegativeInfinity, ScoreRejectionReason.Infinity, true)),
            outOfRangeAdd.Select(v => ((double?)v, ScoreRejectionReason.OutOfRange, false)),
            outOfRangeSet.Select(v => ((double?)v, ScoreRejectionReason.OutOfRange, true)));

        var hostile = Gen.OneOf(
            from e in valid from bad in badStrings select new HostileEvent(e with { EventId = bad.Item1! }, "EventId", bad.Item2),
            from e in valid from bad in badStrings select new HostileEvent(e with { UserId = bad.Item1! }, "UserId", bad.Item2),
            from e in valid from bad in badStrings select new HostileEvent(e with { Concept = bad.Item1! }, "Concept", bad.Item2),
            from e in valid
            from bad in badValues
            select new HostileEvent(e with { Value = bad.Item1, Kind = bad.Item3 ? ScoreChangeKind.Set : ScoreChangeKind.Add }, "Value", bad.Item2),
            from e in valid
            from kind in Gen.Elements(0, 3, -1, 99, int.MaxValue)
            select new HostileEvent(e with { Kind = (ScoreChangeKind)kind }, "Kind", ScoreRejectionReason.UnknownKind),
            from e in valid
            from version in Gen.Elements(-1L, -2L, long.MinValue)
            select new HostileEvent(e with { ExpectedVersion = version }, "ExpectedVersion", ScoreRejectionReason.Negative),
            from e in valid
            from bad in badStrings.Where(b => b.Item1 is not null && b.Item2 is ScoreRejectionReason.TooLong or ScoreRejectionReason.InvalidCharacter or ScoreRejectionReason.InvalidText)
            select new HostileEvent(e with { Source = bad.Item1 }, "Source", bad.Item2));
        return hostile.ToArbitrary();
    }
}
