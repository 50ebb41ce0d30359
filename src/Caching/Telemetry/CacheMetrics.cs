using System.Diagnostics.Metrics;

namespace Resilience.Caching.Internal;

/// <summary>The instruments of one cache. Counters are only touched when a listener enabled them.</summary>
internal sealed class CacheMetrics : IDisposable
{
    private static readonly string[] ReasonNames = ["none", "capacity", "weight", "expired", "removed", "replaced"];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _nameTag;
    private readonly Counter<long> _hits;
    private readonly Counter<long> _misses;
    private readonly Counter<long> _evictions;

    public CacheMetrics(string name, IMeterFactory? meterFactory, Func<long> entries, Func<long> weight, long capacity)
    {
        if (meterFactory is null)
        {
            _meter = new Meter(CachingTelemetry.MeterName);
            _ownsMeter = true;
        }
        else
        {
            _meter = meterFactory.Create(new MeterOptions(CachingTelemetry.MeterName));
        }

        _nameTag = new KeyValuePair<string, object?>(CachingTelemetry.CacheNameTag, name);
        var tag = _nameTag;
        _hits = _meter.CreateCounter<long>(CachingTelemetry.Hits, "{lookup}", "Lookups that found a live entry.");
        _misses = _meter.CreateCounter<long>(CachingTelemetry.Misses, "{lookup}", "Lookups that found no live entry.");
        _evictions = _meter.CreateCounter<long>(CachingTelemetry.Evictions, "{entry}", "Entries that left the cache, by reason.");
        _meter.CreateObservableUpDownCounter(CachingTelemetry.Entries, () => new Measurement<long>(entries(), tag), "{entry}", "Entries held.");
        _meter.CreateObservableGauge(CachingTelemetry.EntriesMax, () => new Measurement<long>(capacity, tag), "{entry}", "The entry cap.");
        _meter.CreateObservableUpDownCounter(CachingTelemetry.Weight, () => new Measurement<long>(weight(), tag), "{weight}", "Total weight held.");
    }

    public void Hit()
    {
        if (_hits.Enabled)
        {
            _hits.Add(1, _nameTag);
        }
    }

    public void Miss()
    {
        if (_misses.Enabled)
        {
            _misses.Add(1, _nameTag);
        }
    }

    public void Evicted(CacheEvictionReason reason)
    {
        if (_evictions.Enabled)
        {
            _evictions.Add(1, _nameTag, new KeyValuePair<string, object?>(CachingTelemetry.ReasonTag, ReasonNames[(int)reason]));
        }
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
