using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Resilience.Pooling;

/// <summary>The pool's instruments: OpenTelemetry database-client names where they exist, <c>resilience.pool.*</c> otherwise.</summary>
internal sealed class PoolMetrics : IDisposable
{
    /// <summary>The one meter name of this package.</summary>
    public const string MeterName = "Resilience.Pooling";

    private static readonly string[] ReasonNames = ["uses", "lifetime", "idle", "broken"];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _poolTag;
    private readonly Counter<long> _timeouts;
    private readonly Histogram<double> _waitTime;
    private readonly Histogram<double> _useTime;
    private readonly Counter<long> _recycled;

    public PoolMetrics(PostgresPool pool, IMeterFactory? meterFactory)
    {
        if (meterFactory is null)
        {
            _meter = new Meter(MeterName);
            _ownsMeter = true;
        }
        else
        {
            _meter = meterFactory.Create(new MeterOptions(MeterName));
        }

        _poolTag = new KeyValuePair<string, object?>("db.client.connection.pool.name", pool.Name);
        var tags = new[] { _poolTag };

        _meter.CreateObservableUpDownCounter<int>(
            "db.client.connection.count",
            () =>
            {
                var (idle, used) = pool.Counts();
                return (IEnumerable<Measurement<int>>)
                [
                    new Measurement<int>(idle, _poolTag, new KeyValuePair<string, object?>("db.client.connection.state", "idle")),
                    new Measurement<int>(used, _poolTag, new KeyValuePair<string, object?>("db.client.connection.state", "used")),
                ];
            },
            "{connection}",
            "The number of connections that are currently in the state described by the state attribute.");
        _meter.CreateObservableUpDownCounter(
            "db.client.connection.max",
            () => new Measurement<int>(pool.MaxSize, _poolTag),
            "{connection}",
            "The maximum number of open connections allowed.");
        _meter.CreateObservableUpDownCounter(
            "db.client.connection.pending_requests",
            () => new Measurement<int>(pool.Waiters, _poolTag),
            "{request}",
            "The number of current pending requests for an open connection.");
        _timeouts = _meter.CreateCounter<long>(
            "db.client.connection.timeouts", "{timeout}",
            "The number of connection timeouts that have occurred trying to obtain a connection from the pool.");
        _waitTime = _meter.CreateHistogram<double>(
            "db.client.connection.wait_time", "s", "The time it took to obtain an open connection from the pool.");
        _useTime = _meter.CreateHistogram<double>(
            "db.client.connection.use_time", "s", "The time between borrowing a connection and returning it to the pool.");
        _recycled = _meter.CreateCounter<long>(
            "resilience.pool.connection.recycled", "{connection}",
            "Physical connections retired by the pool, by reason (uses, lifetime, idle, broken).");
        _meter.CreateObservableGauge(
            "resilience.pool.server.utilization",
            () => pool.Saturation.LastReading is { } r ? [new Measurement<double>(r.Utilization, tags)] : Array.Empty<Measurement<double>>(),
            "1",
            "Server client connections divided by max_connections, from the last saturation sample.");
        _meter.CreateObservableGauge(
            "resilience.pool.server.saturation_alert",
            () => pool.Saturation.LastReading is { } r ? [new Measurement<int>(r.IsAlerting ? 1 : 0, tags)] : Array.Empty<Measurement<int>>(),
            "1",
            "1 while server utilisation has stayed above the threshold for the whole window, else 0.");
    }

    public bool WaitTimeEnabled => _waitTime.Enabled;

    public bool UseTimeEnabled => _useTime.Enabled;

    public void Timeout() => _timeouts.Add(1, _poolTag);

    public void WaitTime(long startTimestamp, long endTimestamp, TimeProvider time) =>
        _waitTime.Record(time.GetElapsedTime(startTimestamp, endTimestamp).TotalSeconds, _poolTag);

    public void UseTime(TimeSpan held) => _useTime.Record(held.TotalSeconds, _poolTag);

    public void Recycled(RecycleReason reason) =>
        _recycled.Add(1, _poolTag, new KeyValuePair<string, object?>("reason", ReasonNames[(int)reason]));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
