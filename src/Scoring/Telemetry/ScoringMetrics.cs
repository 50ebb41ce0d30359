using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Resilience.Scoring;

/// <summary>
/// The package's instruments, on one meter named <see cref="MeterName"/>. Recording never throws: a
/// <see cref="MeterListener"/> callback that throws loses its measurement, never the caller's outcome (an apply that
/// committed must not be reported as failed, and a statement must not go unsent because of telemetry).
/// </summary>
internal sealed class ScoringMetrics : IDisposable
{
    public const string MeterName = "Resilience.Scoring";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _applied;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _conflicts;
    private readonly Histogram<double> _duration;
    private readonly Histogram<int> _eventsPerStatement;

    public ScoringMetrics(IMeterFactory? meterFactory, string schema)
    {
        var tags = new[] { new KeyValuePair<string, object?>("resilience.scoring.schema", schema) };
        if (meterFactory is null)
        {
            _meter = new Meter(MeterName, null, tags);
            _ownsMeter = true;
        }
        else
        {
            _meter = meterFactory.Create(new MeterOptions(MeterName) { Tags = tags });
        }

        _applied = _meter.CreateCounter<long>("resilience.scoring.events.applied", "{event}", "Score events appended to the log and folded into the projection.");
        _duplicates = _meter.CreateCounter<long>("resilience.scoring.events.duplicates", "{event}", "Score events whose id had already been applied; nothing was written.");
        _rejected = _meter.CreateCounter<long>("resilience.scoring.events.rejected", "{event}", "Score events refused before any SQL, by reason.");
        _conflicts = _meter.CreateCounter<long>("resilience.scoring.conflicts", "{event}", "Score events refused because their expected version no longer matched.");
        _duration = _meter.CreateHistogram<double>(
            "resilience.scoring.apply.duration", "s", "Duration of apply and batch apply calls that reached the database.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _eventsPerStatement = _meter.CreateHistogram<int>(
            "resilience.scoring.apply.combined_events", "{event}", "Callers' events sent in one statement by combined ApplyAsync calls.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000] });
    }

    public void EventsPerStatement(int count)
    {
        try
        {
            _eventsPerStatement.Record(count);
        }
        catch (Exception)
        {
            // A listener threw: see the class summary.
        }
    }

    public void Applied(int count) => Add(_applied, count);

    public void Duplicates(int count) => Add(_duplicates, count);

    public void Rejected(ScoreRejectionReason reason, string field)
    {
        try
        {
            _rejected.Add(1, new TagList { { "resilience.scoring.rejection.reason", ReasonName(reason) }, { "resilience.scoring.field", field } });
        }
        catch (Exception)
        {
            // A listener threw: see the class summary.
        }
    }

    public void Conflict() => Add(_conflicts, 1);

    public void Duration(string operation, long startTimestamp, long endTimestamp, string? errorType)
    {
        if (!_duration.Enabled)
        {
            return;
        }

        var seconds = (endTimestamp - startTimestamp) / (double)Stopwatch.Frequency;
        var tags = new TagList { { "resilience.scoring.operation", operation } };
        if (errorType is not null)
        {
            tags.Add("error.type", errorType);
        }

        try
        {
            _duration.Record(seconds, tags);
        }
        catch (Exception)
        {
            // A listener threw: see the class summary.
        }
    }

    private static void Add(Counter<long> counter, int count)
    {
        if (count <= 0)
        {
            return;
        }

        try
        {
            counter.Add(count);
        }
        catch (Exception)
        {
            // A listener threw: see the class summary.
        }
    }

    internal static string ReasonName(ScoreRejectionReason reason) => reason switch
    {
        ScoreRejectionReason.Null => "null",
        ScoreRejectionReason.NotANumber => "nan",
        ScoreRejectionReason.Infinity => "infinity",
        ScoreRejectionReason.OutOfRange => "out_of_range",
        ScoreRejectionReason.Empty => "empty",
        ScoreRejectionReason.TooLong => "too_long",
        ScoreRejectionReason.InvalidCharacter => "invalid_character",
        ScoreRejectionReason.UnknownKind => "unknown_kind",
        ScoreRejectionReason.Negative => "negative",
        ScoreRejectionReason.InvalidText => "invalid_text",
        ScoreRejectionReason.TooPrecise => "too_precise",
        _ => "other",
    };

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
