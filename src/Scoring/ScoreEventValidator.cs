using System.Globalization;

namespace Resilience.Scoring;

/// <summary>The rules every event must pass before any SQL runs. Pure: no I/O, no defaults, nothing substituted.</summary>
internal static class ScoreEventValidator
{
    /// <summary>Returns <see langword="null"/> when the event is valid, else the first broken rule.</summary>
    public static ScoreValidationException? Check(ScoreEvent? scoreEvent, ScoringOptions options, int? batchIndex = null)
    {
        var at = batchIndex is { } i ? $" (batch index {i})" : string.Empty;
        if (scoreEvent is null)
        {
            return new ScoreValidationException("Event", ScoreRejectionReason.Null, $"The score event{at} is null.", null, batchIndex);
        }

        var id = scoreEvent.EventId;
        var problem = CheckId(nameof(ScoreEvent.EventId), scoreEvent.EventId, options, at, null, batchIndex);
        if (problem is not null)
        {
            return problem;
        }

        problem = CheckId(nameof(ScoreEvent.UserId), scoreEvent.UserId, options, at, id, batchIndex)
            ?? CheckId(nameof(ScoreEvent.Concept), scoreEvent.Concept, options, at, id, batchIndex);
        if (problem is not null)
        {
            return problem;
        }

        if (scoreEvent.Kind is not (ScoreChangeKind.Add or ScoreChangeKind.Set))
        {
            return Fail(nameof(ScoreEvent.Kind), ScoreRejectionReason.UnknownKind,
                $"Kind of score event '{id}'{at} is {(int)scoreEvent.Kind}, which is not a ScoreChangeKind; use Add or Set.", id, batchIndex);
        }

        problem = CheckValue(scoreEvent, options, at, batchIndex);
        if (problem is not null)
        {
            return problem;
        }

        if (scoreEvent.Source is { } source)
        {
            if (source.Length > options.MaxIdLength)
            {
                return Fail(nameof(ScoreEvent.Source), ScoreRejectionReason.TooLong,
                    $"Source of score event '{id}'{at} has {source.Length} characters; the limit is ScoringOptions.MaxIdLength = {options.MaxIdLength}.", id, batchIndex);
            }

            problem = CheckText(nameof(ScoreEvent.Source), source, $"of score event '{id}'{at}", id, batchIndex);
            if (problem is not null)
            {
                return problem;
            }
        }

        if (scoreEvent.ExpectedVersion is < 0)
        {
            return Fail(nameof(ScoreEvent.ExpectedVersion), ScoreRejectionReason.Negative,
                $"ExpectedVersion of score event '{id}'{at} is {scoreEvent.ExpectedVersion}; versions start at 0 (no score yet).", id, batchIndex);
        }

        return null;
    }

    private static ScoreValidationException? CheckValue(ScoreEvent scoreEvent, ScoringOptions options, string at, int? batchIndex)
    {
        var id = scoreEvent.EventId;
        const string Field = nameof(ScoreEvent.Value);
        if (scoreEvent.Value is not { } value)
        {
            return Fail(Field, ScoreRejectionReason.Null,
                $"Value of score event '{id}'{at} is null. A missing score is an error, never 'keep the old score'.", id, batchIndex);
        }

        if (double.IsNaN(value))
        {
            return Fail(Field, ScoreRejectionReason.NotANumber, $"Value of score event '{id}'{at} is NaN.", id, batchIndex);
        }

        if (double.IsInfinity(value))
        {
            return Fail(Field, ScoreRejectionReason.Infinity, $"Value of score event '{id}'{at} is {value}; it must be finite.", id, batchIndex);
        }

        if (scoreEvent.Kind == ScoreChangeKind.Set)
        {
            if (value < options.MinScore || value > options.MaxScore)
            {
                return Fail(Field, ScoreRejectionReason.OutOfRange,
                    $"Value of score event '{id}'{at} is {value}; a Set must lie in [ScoringOptions.MinScore = {options.MinScore}, ScoringOptions.MaxScore = {options.MaxScore}].",
                    id, batchIndex);
            }
        }
        else if (Math.Abs(value) > 2 * ScoringOptions.ScoreLimit)
        {
            return AddOutOfRange(value, options, id, at, batchIndex);
        }

        if (!ExactScore.TryConvert(value, out var exact, out var digits, out var places))
        {
            return Fail(Field, ScoreRejectionReason.TooPrecise,
                $"Value of score event '{id}'{at} is {value.ToString("R", CultureInfo.InvariantCulture)}, which cannot be stored exactly: " +
                $"a value may have at most {ScoringOptions.MaxSignificantDigits} significant digits (ScoringOptions.MaxSignificantDigits) and " +
                $"{ScoringOptions.MaxDecimalPlaces} digits after the decimal point (ScoringOptions.MaxDecimalPlaces), so the smallest non-zero " +
                $"magnitude is 1e-{ScoringOptions.MaxDecimalPlaces}; this one has {digits} and {places}. Nothing is rounded for you: " +
                "round it to the precision you mean (for example Math.Round(value, 6)).",
                id, batchIndex);
        }

        if (scoreEvent.Kind == ScoreChangeKind.Add && Math.Abs(exact) > MaxDelta(options))
        {
            return AddOutOfRange(value, options, id, at, batchIndex);
        }

        return null;
    }

    private static ScoreValidationException AddOutOfRange(double value, ScoringOptions options, string id, string at, int? batchIndex)
    {
        var span = MaxDelta(options);
        return Fail(nameof(ScoreEvent.Value), ScoreRejectionReason.OutOfRange,
            $"Value of score event '{id}'{at} is {value}; an Add must lie in [-{span}, {span}] (MaxScore - MinScore).", id, batchIndex);
    }

    /// <summary>The largest magnitude of an <see cref="ScoreChangeKind.Add"/> delta: the width of the score range.</summary>
    public static decimal MaxDelta(ScoringOptions options) => ExactScore.ToDecimal(options.MaxScore) - ExactScore.ToDecimal(options.MinScore);

    private static ScoreValidationException? CheckId(string field, string? value, ScoringOptions options, string at, string? eventId, int? batchIndex)
    {
        var owner = eventId is null ? $"of the score event{at}" : $"of score event '{eventId}'{at}";
        if (value is null)
        {
            return Fail(field, ScoreRejectionReason.Null, $"{field} {owner} is null.", eventId, batchIndex);
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            return Fail(field, ScoreRejectionReason.Empty, $"{field} {owner} is empty or white space.", eventId, batchIndex);
        }

        if (value.Length > options.MaxIdLength)
        {
            return Fail(field, ScoreRejectionReason.TooLong,
                $"{field} {owner} has {value.Length} characters; the limit is ScoringOptions.MaxIdLength = {options.MaxIdLength}.", eventId, batchIndex);
        }

        return CheckText(field, value, owner, eventId, batchIndex);
    }

    /// <summary>
    /// Refuses text PostgreSQL cannot store as sent: a NUL character (<see cref="ScoreRejectionReason.InvalidCharacter"/>) or a
    /// lone UTF-16 surrogate, which has no UTF-8 encoding (<see cref="ScoreRejectionReason.InvalidText"/>).
    /// </summary>
    /// <param name="field">The field name for the exception.</param>
    /// <param name="value">The text; not <see langword="null"/>.</param>
    /// <param name="owner">Whose field, for the message (for example "of score event 'e1'").</param>
    /// <param name="eventId">The event's id when it is known to be usable.</param>
    /// <param name="batchIndex">The event's position in a batch.</param>
    /// <returns><see langword="null"/> when the text can be stored, else the broken rule.</returns>
    public static ScoreValidationException? CheckText(string field, string value, string owner, string? eventId = null, int? batchIndex = null)
    {
        var nul = value.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0)
        {
            return Fail(field, ScoreRejectionReason.InvalidCharacter,
                $"{field} {owner} contains a NUL character (at position {nul}), which PostgreSQL text cannot store.", eventId, batchIndex);
        }

        var lone = IndexOfLoneSurrogate(value);
        if (lone >= 0)
        {
            return Fail(field, ScoreRejectionReason.InvalidText,
                $"{field} {owner} is not well-formed UTF-16: a lone surrogate U+{(int)value[lone]:X4} at position {lone} has no UTF-8 " +
                "encoding, so PostgreSQL text cannot store it. Pass text whose surrogates come in pairs.", eventId, batchIndex);
        }

        return null;
    }

    /// <summary>The position of the first surrogate that is not half of a high-low pair, or -1 when the text is well-formed.</summary>
    internal static int IndexOfLoneSurrogate(ReadOnlySpan<char> text)
    {
        var start = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (start < 0)
        {
            return -1;
        }

        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return i;
            }
        }

        return -1;
    }

    private static ScoreValidationException Fail(string field, ScoreRejectionReason reason, string message, string? eventId, int? batchIndex) =>
        new(field, reason, message, eventId, batchIndex);
}
