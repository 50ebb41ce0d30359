using System.Diagnostics.Metrics;

namespace Resilience.Locks.Telemetry;

/// <summary>
/// The instruments of one lock name on the <c>Resilience.Locks</c> meter. Durations are in seconds. Every measurement
/// carries <c>resilience.lock.name</c>. Nothing is computed unless a listener enabled the instrument.
/// </summary>
internal sealed class LockMetrics : IDisposable
{
    public const string MeterName = "Resilience.Locks";
    public const string NameTag = "resilience.lock.name";
    public const string OutcomeTag = "resilience.lock.outcome";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _name;
    private readonly Histogram<double> _holdDuration;
    private readonly Histogram<double> _acquireDuration;
    private readonly Counter<long> _acquires;
    private readonly Counter<long> _lost;
    private readonly Counter<long> _releasesAfterExpiry;
    private readonly Counter<long> _forceReleases;

    public LockMetrics(string name, IMeterFactory? meterFactory, HoldTimeWatch watch, Func<TimeSpan> currentTtl)
    {
        _name = new KeyValuePair<string, object?>(NameTag, name);
        var options = new MeterOptions(MeterName) { Tags = [_name] };
        if (meterFactory is null)
        {
            _meter = new Meter(options);
            _ownsMeter = true;
        }
        else
        {
            _meter = meterFactory.Create(options);
        }

        _holdDuration = _meter.CreateHistogram<double>("resilience.lock.hold.duration", "s",
            "How long a lease was held, from acquire to release.");
        _acquireDuration = _meter.CreateHistogram<double>("resilience.lock.acquire.duration", "s",
            "How long an acquire call waited, by outcome.");
        _acquires = _meter.CreateCounter<long>("resilience.lock.acquires", "{acquire}",
            "Acquire calls by outcome: acquired, held, timeout, error.");
        _lost = _meter.CreateCounter<long>("resilience.lock.lost", "{lock}",
            "Leases lost while held: expired before release, or an extension found the key gone or owned by another.");
        _releasesAfterExpiry = _meter.CreateCounter<long>("resilience.lock.releases_after_expiry", "{release}",
            "Releases that found the lease already expired; the new holder's lock was left untouched.");
        _forceReleases = _meter.CreateCounter<long>("resilience.lock.force_releases", "{release}",
            "Force releases by outcome: released, refused, not_held.");
        var tags = new[] { _name };
        _meter.CreateObservableGauge("resilience.lock.hold.p95", () => new Measurement<double>(watch.GetSnapshot().P95.TotalSeconds, tags), "s",
            "Rolling p95 hold time of the hold-time watch.");
        _meter.CreateObservableGauge("resilience.lock.hold.alert", () => new Measurement<int>(watch.GetSnapshot().IsAlerting ? 1 : 0, tags), "{alert}",
            "1 while the rolling p95 hold time is above the alert threshold, else 0.");
        _meter.CreateObservableGauge("resilience.lock.ttl", () => new Measurement<double>(currentTtl().TotalSeconds, tags), "s",
            "The TTL the next lease will get.");
    }

    public void Acquire(string outcome, TimeSpan waited)
    {
        var outcomeTag = new KeyValuePair<string, object?>(OutcomeTag, outcome);
        if (_acquires.Enabled)
        {
            _acquires.Add(1, _name, outcomeTag);
        }

        if (_acquireDuration.Enabled)
        {
            _acquireDuration.Record(waited.TotalSeconds, _name, outcomeTag);
        }
    }

    public void Held(TimeSpan hold)
    {
        if (_holdDuration.Enabled)
        {
            _holdDuration.Record(hold.TotalSeconds, _name);
        }
    }

    public void Lost() => _lost.Add(1, _name);

    public void ReleaseAfterExpiry() => _releasesAfterExpiry.Add(1, _name);

    public void ForceRelease(string outcome) => _forceReleases.Add(1, _name, new KeyValuePair<string, object?>(OutcomeTag, outcome));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    internal static class Outcomes
    {
        public const string Acquired = "acquired";
        public const string Held = "held";
        public const string Timeout = "timeout";
        public const string Error = "error";
        public const string Released = "released";
        public const string Refused = "refused";
        public const string NotHeld = "not_held";
    }
}
