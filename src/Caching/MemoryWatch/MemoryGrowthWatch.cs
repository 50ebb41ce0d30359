using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.Caching.Internal;

namespace Resilience.Caching;

/// <summary>
/// Watches process resident memory over a sliding window and raises an alert when it grows more than a threshold
/// without a matching rise in load: the second signal behind a capped cache. Samples come from a timer on the
/// <see cref="TimeProvider"/> (<see cref="Start"/>), from <see cref="SampleNow"/>, or are supplied with <see cref="AddSample(long, double?)"/>.
/// </summary>
public sealed class MemoryGrowthWatch : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Queue<MemorySample> _samples = new();
    private readonly MemoryWatchOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Func<long> _readResident;
    private ITimer? _timer;
    private MemoryGrowthSnapshot _snapshot = MemoryGrowthSnapshot.Empty;

    /// <summary>Creates a watch; it samples nothing until <see cref="Start"/>, <see cref="SampleNow"/> or <see cref="AddSample(long, double?)"/>.</summary>
    /// <param name="options">Window, threshold and load signal; validated here.</param>
    /// <param name="timeProvider">The clock and timer; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the <c>Resilience.Caching</c> meter; when <see langword="null"/> the watch owns one.</param>
    /// <param name="logger">Logs alert changes (warning when raised).</param>
    /// <exception cref="CacheOptionsException">The options are invalid; every problem is listed.</exception>
    public MemoryGrowthWatch(MemoryWatchOptions options, TimeProvider? timeProvider = null, IMeterFactory? meterFactory = null, ILogger? logger = null)
        : this(options, timeProvider, meterFactory, logger, static () => Environment.WorkingSet)
    {
    }

    internal MemoryGrowthWatch(MemoryWatchOptions options, TimeProvider? timeProvider, IMeterFactory? meterFactory, ILogger? logger, Func<long> readResident)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new CacheOptionsException(typeof(MemoryWatchOptions), errors);
        }

        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _readResident = readResident;
        Name = options.Name ?? "memory";
        if (meterFactory is null)
        {
            _meter = new Meter(CachingTelemetry.MeterName);
            _ownsMeter = true;
        }
        else
        {
            _meter = meterFactory.Create(new MeterOptions(CachingTelemetry.MeterName));
        }

        var tag = new KeyValuePair<string, object?>(CachingTelemetry.CacheNameTag, Name);
        _meter.CreateObservableGauge(CachingTelemetry.ProcessMemoryUsage, () => new Measurement<long>(Snapshot.ResidentBytes, tag), "By", "Resident memory at the latest sample.");
        _meter.CreateObservableGauge(CachingTelemetry.MemoryGrowth, () => new Measurement<long>(Snapshot.GrowthBytes, tag), "By", "Resident memory growth over the window.");
        _meter.CreateObservableGauge(CachingTelemetry.MemoryAlert, () => new Measurement<int>(Snapshot.IsAlerting ? 1 : 0, tag), "{alert}", "1 while memory grows without a matching rise in load.");
    }

    /// <summary>Raised when <see cref="MemoryGrowthSnapshot.IsAlerting"/> changes, with the snapshot that changed it.</summary>
    public event EventHandler<MemoryGrowthSnapshot>? AlertChanged;

    /// <summary>The watch's name (metric tag and logs).</summary>
    public string Name { get; }

    /// <summary>The state after the latest sample.</summary>
    public MemoryGrowthSnapshot Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>Whether the alert is raised now.</summary>
    public bool IsAlerting => Snapshot.IsAlerting;

    /// <summary>Starts sampling on a <see cref="TimeProvider"/> timer every <see cref="MemoryWatchOptions.SampleInterval"/>, beginning now. Calling it again does nothing.</summary>
    public void Start()
    {
        lock (_lock)
        {
            _timer ??= _time.CreateTimer(static state => ((MemoryGrowthWatch)state!).SampleFromTimer(), this, TimeSpan.Zero, _options.SampleInterval);
        }
    }

    /// <summary>Stops the timer; samples already taken stay.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }

    /// <summary>Samples resident memory (<see cref="Environment.WorkingSet"/>, VmRSS on Linux) and the load signal now.</summary>
    /// <returns>The state after this sample.</returns>
    public MemoryGrowthSnapshot SampleNow() => AddSample(_time.GetUtcNow(), _readResident(), _options.LoadSignal?.Invoke());

    /// <summary>Adds a supplied sample taken now (on the <see cref="TimeProvider"/>).</summary>
    /// <param name="residentBytes">Resident memory in bytes; not negative.</param>
    /// <param name="load">The load signal at the same moment, if any; not negative.</param>
    /// <returns>The state after this sample.</returns>
    public MemoryGrowthSnapshot AddSample(long residentBytes, double? load = null) => AddSample(_time.GetUtcNow(), residentBytes, load);

    /// <summary>Adds a supplied sample taken at <paramref name="at"/>; samples must come in time order.</summary>
    /// <param name="at">When the sample was taken; not earlier than the previous sample.</param>
    /// <param name="residentBytes">Resident memory in bytes; not negative.</param>
    /// <param name="load">The load signal at the same moment, if any; not negative.</param>
    /// <returns>The state after this sample.</returns>
    public MemoryGrowthSnapshot AddSample(DateTimeOffset at, long residentBytes, double? load = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(residentBytes);
        if (load is { } l && (!(l >= 0) || double.IsInfinity(l)))
        {
            throw new ArgumentOutOfRangeException(nameof(load), load, "The load signal must be a finite number, zero or positive.");
        }

        MemoryGrowthSnapshot previous;
        MemoryGrowthSnapshot next;
        lock (_lock)
        {
            previous = _snapshot;
            if (_samples.Count > 0 && at < previous.At)
            {
                throw new ArgumentOutOfRangeException(nameof(at), at, $"Samples must come in time order; the previous sample was taken at {previous.At:O}.");
            }

            _samples.Enqueue(new MemorySample(at, residentBytes, load));
            var oldest = at - _options.Window;
            while (_samples.Peek().At < oldest)
            {
                _samples.Dequeue();
            }

            next = Evaluate(at, residentBytes, load);
            Volatile.Write(ref _snapshot, next);
        }

        if (next.IsAlerting != previous.IsAlerting)
        {
            if (next.IsAlerting)
            {
                Log.MemoryAlertRaised(_logger, Name, next.GrowthBytes, next.Covered, _options.GrowthThresholdBytes, next.BaselineLoad, next.Load);
            }
            else
            {
                Log.MemoryAlertCleared(_logger, Name, next.GrowthBytes, next.Covered);
            }

            AlertChanged?.Invoke(this, next);
        }

        return next;
    }

    /// <summary>Stops the timer and disposes the meter the watch owns.</summary>
    public void Dispose()
    {
        Stop();
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private MemoryGrowthSnapshot Evaluate(DateTimeOffset at, long resident, double? load)
    {
        MemorySample baseline = default;
        var first = true;
        var oldestAt = at;
        foreach (var sample in _samples)
        {
            if (first || sample.ResidentBytes < baseline.ResidentBytes)
            {
                baseline = sample;
            }

            if (first)
            {
                oldestAt = sample.At;
            }

            first = false;
        }

        var growth = resident - baseline.ResidentBytes;
        var alerting = growth > _options.GrowthThresholdBytes && !LoadExplains(resident, baseline, load);
        return new MemoryGrowthSnapshot(at, resident, baseline.ResidentBytes, growth, at - oldestAt, load, baseline.Load, _samples.Count, alerting);
    }

    private bool LoadExplains(long resident, MemorySample baseline, double? load)
    {
        if (load is not { } now || baseline.Load is not { } then)
        {
            return false;
        }

        if (then <= 0)
        {
            // From idle to busy: any rise in load explains the growth.
            return now > 0;
        }

        var memoryFactor = baseline.ResidentBytes == 0 ? double.PositiveInfinity : (double)resident / baseline.ResidentBytes;
        return memoryFactor <= now / then * _options.LoadTolerance;
    }

    private void SampleFromTimer()
    {
        try
        {
            SampleNow();
        }
        catch (Exception exception)
        {
            Log.MemorySampleFailed(_logger, exception, Name);
        }
    }

    private readonly record struct MemorySample(DateTimeOffset At, long ResidentBytes, double? Load);
}
