using Microsoft.Extensions.Logging;
using Resilience.Locks.Telemetry;

namespace Resilience.Locks;

/// <summary>
/// The hold-time watch of one lock name: a rolling window of hold durations (bounded by time and by count, on the
/// provider's <see cref="TimeProvider"/>), its p95/p99, and an alert state while the p95 is above a threshold.
/// Sample it on demand with <see cref="GetSnapshot"/>. Thread-safe.
/// </summary>
public sealed class HoldTimeWatch
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly long _windowTicks;
    private readonly long[] _stamps;
    private readonly double[] _seconds;
    private readonly double[] _scratch;
    private readonly int _alertMinSamples;
    private readonly ILogger _logger;
    private readonly string _name;
    private int _start;
    private int _count;
    private bool _alerting;

    internal HoldTimeWatch(string name, TimeProvider time, RedisLockOptions options, ILogger logger)
    {
        _name = name;
        _time = time;
        _windowTicks = (long)(options.HoldTimeWindow.TotalSeconds * time.TimestampFrequency);
        _stamps = new long[options.HoldTimeWindowCapacity];
        _seconds = new double[options.HoldTimeWindowCapacity];
        _scratch = new double[options.HoldTimeWindowCapacity];
        _alertMinSamples = options.HoldTimeAlertMinSamples;
        Threshold = options.HoldTimeAlertThreshold;
        _logger = logger;
    }

    /// <summary>The p95 above which the watch alerts.</summary>
    public TimeSpan Threshold { get; }

    /// <summary>Whether the watch is alerting now (computes a snapshot).</summary>
    public bool IsAlerting => GetSnapshot().IsAlerting;

    /// <summary>Computes the rolling percentiles and alert state now. Logs a transition into or out of the alert state.</summary>
    /// <returns>The snapshot.</returns>
    public HoldTimeSnapshot GetSnapshot()
    {
        bool? transition = null;
        HoldTimeSnapshot snapshot;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            Evict(now);
            var n = Sorted();
            var p95 = n == 0 ? 0 : NearestRank(n, 0.95);
            var p99 = n == 0 ? 0 : NearestRank(n, 0.99);
            var max = n == 0 ? 0 : _scratch[n - 1];
            var threshold = Threshold.TotalSeconds;
            var alerting = n >= _alertMinSamples && p95 > threshold;
            if (alerting != _alerting)
            {
                _alerting = alerting;
                transition = alerting;
            }

            snapshot = new HoldTimeSnapshot(n, TimeSpan.FromSeconds(p95), TimeSpan.FromSeconds(p99), TimeSpan.FromSeconds(max),
                Threshold, alerting, _time.GetUtcNow());
        }

        if (transition == true)
        {
            LockLog.HoldTimeAlertRaised(_logger, _name, snapshot.P95.TotalSeconds, Threshold.TotalSeconds, snapshot.SampleCount);
        }
        else if (transition == false)
        {
            LockLog.HoldTimeAlertCleared(_logger, _name, snapshot.P95.TotalSeconds, Threshold.TotalSeconds);
        }

        return snapshot;
    }

    /// <summary>Adds one hold duration.</summary>
    internal void Record(TimeSpan hold)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            Evict(now);
            var capacity = _stamps.Length;
            int slot;
            if (_count == capacity)
            {
                slot = _start;
                _start = (_start + 1) % capacity;
            }
            else
            {
                slot = (_start + _count) % capacity;
                _count++;
            }

            _stamps[slot] = now;
            _seconds[slot] = Math.Max(0, hold.TotalSeconds);
        }
    }

    /// <summary>The nearest-rank quantile of the window and the sample count, or null when empty.</summary>
    internal (TimeSpan Value, int Count)? Quantile(double q)
    {
        lock (_gate)
        {
            Evict(_time.GetTimestamp());
            var n = Sorted();
            return n == 0 ? null : (TimeSpan.FromSeconds(NearestRank(n, q)), n);
        }
    }

    private void Evict(long now)
    {
        var capacity = _stamps.Length;
        while (_count > 0 && now - _stamps[_start] > _windowTicks)
        {
            _start = (_start + 1) % capacity;
            _count--;
        }
    }

    private int Sorted()
    {
        var capacity = _stamps.Length;
        for (var i = 0; i < _count; i++)
        {
            _scratch[i] = _seconds[(_start + i) % capacity];
        }

        Array.Sort(_scratch, 0, _count);
        return _count;
    }

    private double NearestRank(int n, double q)
    {
        var rank = (int)Math.Ceiling(q * n);
        return _scratch[Math.Clamp(rank, 1, n) - 1];
    }
}
