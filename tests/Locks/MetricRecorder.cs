using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Resilience.Locks.Tests;

/// <summary>
/// Records one instrument of the <c>Resilience.Locks</c> meter, across every meter instance of that name, keeping only the
/// measurements tagged with one lock name (tests run in parallel, each with its own lock name).
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _lockName;

    public MetricRecorder(string instrumentName, string lockName)
    {
        _lockName = lockName;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Resilience.Locks" && instrument.Name == instrumentName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) => Add(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) => Add(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, _) => Add(value, tags));
        _listener.Start();
    }

    public ConcurrentQueue<(double Value, string? Outcome)> Measurements { get; } = new();

    public double Sum(string? outcome = null) =>
        Measurements.Where(m => outcome is null || m.Outcome == outcome).Sum(m => m.Value);

    /// <summary>Polls the observable instruments (gauges) now.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    public void Dispose() => _listener.Dispose();

    private void Add(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? name = null;
        string? outcome = null;
        foreach (var tag in tags)
        {
            if (tag.Key == "resilience.lock.name")
            {
                name = tag.Value as string;
            }
            else if (tag.Key == "resilience.lock.outcome")
            {
                outcome = tag.Value as string;
            }
        }

        if (name == _lockName)
        {
            Measurements.Enqueue((value, outcome));
        }
    }
}
