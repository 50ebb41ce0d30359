namespace Resilience.Pooling;

/// <summary>
/// The alert rule: fires when the mean utilisation of the samples taken in the last <see cref="Window"/> is above
/// <see cref="Threshold"/>, once the samples span a whole window. A single dip does not reset it, so a starved server
/// whose connection count swings as clients are refused and reconnect still alerts; a single spike does not fire it.
/// Pure and thread-safe; time comes from the samples.
/// </summary>
public sealed class SaturationRule
{
    private readonly Lock _lock = new();
    private readonly Queue<(DateTimeOffset At, double Utilization)> _window = new();
    private DateTimeOffset? _firstAt;
    private DateTimeOffset _lastAt = DateTimeOffset.MinValue;
    private DateTimeOffset? _aboveSince;
    private bool _alerting;

    /// <summary>Creates the rule.</summary>
    /// <param name="threshold">Mean utilisation (0..1] over the window above which the alert fires.</param>
    /// <param name="window">How far back the mean reaches, and how long samples must have been taken before it can fire.</param>
    public SaturationRule(double threshold, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(threshold, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threshold, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        Threshold = threshold;
        Window = window;
    }

    /// <summary>The utilisation threshold for the window's mean.</summary>
    public double Threshold { get; }

    /// <summary>The window.</summary>
    public TimeSpan Window { get; }

    /// <summary>Whether the alert is firing after the last observation.</summary>
    public bool IsAlerting
    {
        get
        {
            lock (_lock)
            {
                return _alerting;
            }
        }
    }

    /// <summary>
    /// Feeds one sample; returns whether the alert fires and since when the window's mean has been above the threshold.
    /// A sample older than the one before it (the clock stepped back) starts the window again.
    /// </summary>
    public (bool IsAlerting, DateTimeOffset? AboveSince) Observe(double utilization, DateTimeOffset at)
    {
        lock (_lock)
        {
            if (at < _lastAt)
            {
                _window.Clear();
                _firstAt = null;
                _aboveSince = null;
            }

            _firstAt ??= at;
            _lastAt = at;
            _window.Enqueue((at, utilization));
            while (_window.Peek().At < at - Window)
            {
                _window.Dequeue();
            }

            var sum = 0.0;
            foreach (var sample in _window)
            {
                sum += sample.Utilization;
            }

            var above = sum / _window.Count > Threshold;
            _aboveSince = above ? _aboveSince ?? at : null;
            _alerting = above && at - _firstAt.Value >= Window;
            return (_alerting, _aboveSince);
        }
    }
}
