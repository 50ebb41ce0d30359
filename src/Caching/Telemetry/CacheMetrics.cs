using System.Diagnostics.Metrics;

namespace Resilience.Caching.Internal;

/// <summary>
/// The instruments of one cache. Counters are only touched when a listener enabled them. Without an
/// <see cref="IMeterFactory"/> every cache shares one process-wide meter whose observable instruments hold caches only
/// weakly, so a cache that is dropped without being disposed is still collected.
/// </summary>
internal sealed class CacheMetrics : IDisposable
{
    private static readonly string[] ReasonNames = ["none", "capacity", "weight", "expired", "removed", "replaced"];
    private static readonly Lazy<CacheInstruments> SharedInstruments = new(() => new CacheInstruments(new Meter(CachingTelemetry.MeterName), weak: true));

    private readonly CacheInstruments _instruments;
    private readonly bool _ownsInstruments;
    private readonly KeyValuePair<string, object?> _nameTag;
    private readonly Func<long> _entries;
    private readonly Func<long> _weight;
    private readonly long _capacity;

    public CacheMetrics(string name, IMeterFactory? meterFactory, Func<long> entries, Func<long> weight, long capacity)
    {
        _nameTag = new KeyValuePair<string, object?>(CachingTelemetry.CacheNameTag, name);
        _entries = entries;
        _weight = weight;
        _capacity = capacity;
        if (meterFactory is null)
        {
            _instruments = SharedInstruments.Value;
        }
        else
        {
            _instruments = new CacheInstruments(meterFactory.Create(new MeterOptions(CachingTelemetry.MeterName)), weak: false);
            _ownsInstruments = true;
        }

        _instruments.Register(this);
    }

    /// <summary>The hit counter, for the cache to hold directly: its hit path checks <see cref="Instrument.Enabled"/> with one load fewer.</summary>
    public Counter<long> HitCounter => _instruments.Hits;

    /// <summary>Records a hit; the caller checked <see cref="HitCounter"/> is enabled.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public void RecordHit() => _instruments.Hits.Add(1, _nameTag);

    /// <summary>The miss counter, held by the cache like <see cref="HitCounter"/>.</summary>
    public Counter<long> MissCounter => _instruments.Misses;

    /// <summary>Records a miss; the caller checked <see cref="MissCounter"/> is enabled.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public void RecordMiss() => _instruments.Misses.Add(1, _nameTag);

    public void Evicted(CacheEvictionReason reason)
    {
        var counter = _instruments.Evictions;
        if (counter.Enabled)
        {
            counter.Add(1, _nameTag, new KeyValuePair<string, object?>(CachingTelemetry.ReasonTag, ReasonNames[(int)reason]));
        }
    }

    public void Dispose()
    {
        _instruments.Unregister(this);
        if (_ownsInstruments)
        {
            _instruments.Dispose();
        }
    }

    private sealed class CacheInstruments : IDisposable
    {
        private readonly Meter _meter;
        private readonly bool _weak;
        private readonly List<WeakReference<CacheMetrics>> _weakSources = [];
        private CacheMetrics? _source;
        private int _pruneAt = 64;

        public CacheInstruments(Meter meter, bool weak)
        {
            _meter = meter;
            _weak = weak;
            Hits = meter.CreateCounter<long>(CachingTelemetry.Hits, "{lookup}", "Lookups that found a live entry.");
            Misses = meter.CreateCounter<long>(CachingTelemetry.Misses, "{lookup}", "Lookups that found no live entry.");
            Evictions = meter.CreateCounter<long>(CachingTelemetry.Evictions, "{entry}", "Entries that left the cache, by reason.");
            meter.CreateObservableUpDownCounter(CachingTelemetry.Entries, () => Observe(static m => m._entries()), "{entry}", "Entries held.");
            meter.CreateObservableGauge(CachingTelemetry.EntriesMax, () => Observe(static m => m._capacity), "{entry}", "The entry cap.");
            meter.CreateObservableUpDownCounter(CachingTelemetry.Weight, () => Observe(static m => m._weight()), "{weight}", "Total weight held.");
        }

        public Counter<long> Hits { get; }

        public Counter<long> Misses { get; }

        public Counter<long> Evictions { get; }

        public void Register(CacheMetrics metrics)
        {
            lock (_weakSources)
            {
                if (_weak)
                {
                    if (_weakSources.Count >= _pruneAt)
                    {
                        _weakSources.RemoveAll(static w => !w.TryGetTarget(out _));
                        _pruneAt = Math.Max(64, _weakSources.Count * 2);
                    }

                    _weakSources.Add(new WeakReference<CacheMetrics>(metrics));
                }
                else
                {
                    _source = metrics;
                }
            }
        }

        public void Unregister(CacheMetrics metrics)
        {
            lock (_weakSources)
            {
                _weakSources.RemoveAll(w => !w.TryGetTarget(out var target) || ReferenceEquals(target, metrics));
                if (ReferenceEquals(_source, metrics))
                {
                    _source = null;
                }
            }
        }

        public void Dispose() => _meter.Dispose();

        private List<Measurement<long>> Observe(Func<CacheMetrics, long> read)
        {
            var measurements = new List<Measurement<long>>();
            lock (_weakSources)
            {
                if (_source is not null)
                {
                    measurements.Add(new Measurement<long>(read(_source), _source._nameTag));
                }

                for (var i = _weakSources.Count - 1; i >= 0; i--)
                {
                    if (_weakSources[i].TryGetTarget(out var metrics))
                    {
                        measurements.Add(new Measurement<long>(read(metrics), metrics._nameTag));
                    }
                    else
                    {
                        _weakSources.RemoveAt(i);
                    }
                }
            }

            return measurements;
        }
    }
}
