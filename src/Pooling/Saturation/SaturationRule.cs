namespace Resilience.Pooling;

/// <summary>
/// The alert rule: fires when utilisation stays above a threshold for a whole window; any sample at or below the
/// threshold resets it. Pure and thread-safe; time comes from the samples.
/// </summary>
public sealed class SaturationRule
{
    private readonly Lock _lock = new();
    private DateTimeOffset? _aboveSince;
    private bool _alerting;

    /// <summary>Creates the rule.</summary>
    /// <param name="threshold">Utilisation (0..1] above which the window starts.</param>
    /// <param name="window">How long utilisation must stay above the threshold.</param>
    public SaturationRule(double threshold, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(threshold, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threshold, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        Threshold = threshold;
        Window = window;
    }

    /// <summary>The utilisation threshold.</summary>
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

    /// <summary>Feeds one sample; returns whether the alert fires and since when utilisation has been above the threshold.</summary>
    public (bool IsAlerting, DateTimeOffset? AboveSince) Observe(double utilization, DateTimeOffset at)
    {
        lock (_lock)
        {
            if (utilization > Threshold)
            {
                _aboveSince ??= at;
                _alerting = at - _aboveSince.Value >= Window;
            }
            else
            {
                _aboveSince = null;
                _alerting = false;
            }

            return (_alerting, _aboveSince);
        }
    }
}
