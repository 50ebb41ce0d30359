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

            if (source.Contains('\0', StringComparison.Ordinal))
            {
                return Fail(nameof(ScoreEvent.Source), ScoreRejectionReason.InvalidCharacter,
                    $"Source of score event '{id}'{at} contains a NUL character, which PostgreSQL text cannot store.", id, batchIndex);
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
        else
        {
            var span = MaxDelta(options);
            if (Math.Abs(value) > span)
            {
                return Fail(Field, ScoreRejectionReason.OutOfRange,
                    $"Value of score event '{id}'{at} is {value}; an Add must lie in [-{span}, {span}] (MaxScore - MinScore).", id, batchIndex);
            }
        }

        return null;
    }

    /// <summary>The largest magnitude of an <see cref="ScoreChangeKind.Add"/> delta: the width of the score range.</summary>
    public static double MaxDelta(ScoringOptions options) => options.MaxScore - options.MinScore;

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

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            return Fail(field, ScoreRejectionReason.InvalidCharacter,
                $"{field} {owner} contains a NUL character, which PostgreSQL text cannot store.", eventId, batchIndex);
        }

        return null;
    }

    private static ScoreValidationException Fail(string field, ScoreRejectionReason reason, string message, string? eventId, int? batchIndex) =>
        new(field, reason, message, eventId, batchIndex);
}
