using System.Diagnostics.Metrics;

namespace Resilience.Pooling.Tests;

/// <summary>
/// Reads Npgsql's own <c>db.client.connection.count</c> for a pool's slot data sources (named <c>{pool}#{i}</c>): an
/// oracle for open physical connections that does not depend on the pool's bookkeeping.
/// </summary>
internal sealed class NpgsqlConnectionCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _prefix;
    private long _sum;

    public NpgsqlConnectionCounter(string poolName)
    {
        _prefix = poolName + "#";
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name == "db.client.connection.count")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((_, value, tags, _) => Add(value, tags));
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) => Add(value, tags));
        _listener.Start();
    }

    /// <summary>Physical connections Npgsql holds open (idle or used) for the pool's slots right now.</summary>
    public long Open()
    {
        lock (_listener)
        {
            _sum = 0;
            _listener.RecordObservableInstruments();
            return _sum;
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Add(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "db.client.connection.pool.name" && tag.Value is string name && name.StartsWith(_prefix, StringComparison.Ordinal))
            {
                _sum += value;
                return;
            }
        }
    }
}
