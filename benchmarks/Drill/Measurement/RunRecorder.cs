using System.Collections.Concurrent;
using System.Diagnostics;

namespace Resilience.Drill.Measurement;

/// <summary>Collects stage durations, failures and counters of one mode's run. Thread-safe.</summary>
internal sealed class RunRecorder
{
    private readonly ConcurrentDictionary<Stage, List<double>> _stages = new();
    private readonly ConcurrentDictionary<FailureKind, long> _failures = new();
    private readonly ConcurrentDictionary<string, long> _counters = new();
    private readonly ConcurrentQueue<string> _sampleErrors = new();
    private long _submissions;
    private long _completed;

    public long Submissions => Interlocked.Read(ref _submissions);

    public long Completed => Interlocked.Read(ref _completed);

    public long FailedTotal => _failures.Values.Sum();

    public void SubmissionStarted() => Interlocked.Increment(ref _submissions);

    public void SubmissionCompleted() => Interlocked.Increment(ref _completed);

    public void Record(Stage stage, double seconds)
    {
        var list = _stages.GetOrAdd(stage, static _ => new List<double>(4096));
        lock (list)
        {
            list.Add(seconds);
        }
    }

    /// <summary>Times <paramref name="action"/> as <paramref name="stage"/>, whether it succeeds or throws.</summary>
    public async Task<T> TimeAsync<T>(Stage stage, Func<Task<T>> action)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await action();
        }
        finally
        {
            Record(stage, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }

    public async Task TimeAsync(Stage stage, Func<Task> action) =>
        await TimeAsync(stage, async () => { await action(); return true; });

    public void Fail(FailureKind kind, Exception? error = null)
    {
        _failures.AddOrUpdate(kind, 1, static (_, n) => n + 1);
        if (error is not null && _sampleErrors.Count < 20)
        {
            _sampleErrors.Enqueue($"{kind}: {error.GetType().Name}: {error.Message}");
        }
    }

    public void Count(string counter, long by = 1) => _counters.AddOrUpdate(counter, by, (_, n) => n + by);

    public long Counter(string counter) => _counters.TryGetValue(counter, out var n) ? n : 0;

    public long Failures(FailureKind kind) => _failures.TryGetValue(kind, out var n) ? n : 0;

    public IReadOnlyDictionary<string, Percentiles> StagePercentiles() =>
        _stages.OrderBy(pair => pair.Key).ToDictionary(
            pair => pair.Key.ToString(),
            pair =>
            {
                lock (pair.Value)
                {
                    return Percentiles.Of(pair.Value);
                }
            });

    public IReadOnlyDictionary<string, long> FailureCounts() =>
        Enum.GetValues<FailureKind>().ToDictionary(kind => kind.ToString(), Failures);

    public IReadOnlyDictionary<string, long> Counters() => _counters.OrderBy(p => p.Key).ToDictionary(p => p.Key, p => p.Value);

    public IReadOnlyList<string> SampleErrors() => [.. _sampleErrors];
}
