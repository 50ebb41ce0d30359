namespace Resilience.Caching;

/// <summary>Options of <see cref="MemoryGrowthWatch"/>, the "memory grows without load" alert.</summary>
public sealed class MemoryWatchOptions
{
    /// <summary>The default <see cref="Window"/>: 5 minutes.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(5);

    /// <summary>The default <see cref="SampleInterval"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultSampleInterval = TimeSpan.FromSeconds(10);

    /// <summary>The default <see cref="GrowthThresholdBytes"/>: 500 MiB (524,288,000 bytes).</summary>
    public const long DefaultGrowthThresholdBytes = 500L * 1024 * 1024;

    /// <summary>The default <see cref="LoadTolerance"/>: 1.0.</summary>
    public const double DefaultLoadTolerance = 1.0;

    /// <summary>How far back growth is measured: samples older than this are dropped. Default 5 minutes; must be positive.</summary>
    public TimeSpan Window { get; set; } = DefaultWindow;

    /// <summary>How often the timer samples once <see cref="MemoryGrowthWatch.Start"/> is called. Default 10 seconds; positive and at most <see cref="Window"/>.</summary>
    public TimeSpan SampleInterval { get; set; } = DefaultSampleInterval;

    /// <summary>The growth over the window (latest sample minus the lowest in the window) above which the alert may be raised. Default 500 MiB; must be positive.</summary>
    public long GrowthThresholdBytes { get; set; } = DefaultGrowthThresholdBytes;

    /// <summary>
    /// An optional load signal read with each timer sample (for instance concurrent requests). When it is set, growth above
    /// the threshold is excused if the load rose in proportion: the alert is raised only when
    /// <c>resident / baselineResident &gt; (load / baselineLoad) * LoadTolerance</c>. Without it, growth above the threshold alone raises the alert.
    /// </summary>
    public Func<double>? LoadSignal { get; set; }

    /// <summary>How much faster than the load memory may grow before growth is unexplained. Default 1.0; must be positive.</summary>
    public double LoadTolerance { get; set; } = DefaultLoadTolerance;

    /// <summary>The watch's name, used as the <c>resilience.cache.name</c> metric tag and in logs. Default <c>"memory"</c>.</summary>
    public string? Name { get; set; }

    /// <summary>Lists every problem with these options; empty when they are valid.</summary>
    /// <returns>One message per problem, naming the property and the rule.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Window <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(Window)} must be positive (it is {Window}); the default is {DefaultWindow}.");
        }

        if (SampleInterval <= TimeSpan.Zero || SampleInterval > Window)
        {
            errors.Add($"{nameof(SampleInterval)} must be positive and at most {nameof(Window)} ({Window}) (it is {SampleInterval}); the default is {DefaultSampleInterval}.");
        }

        if (GrowthThresholdBytes <= 0)
        {
            errors.Add($"{nameof(GrowthThresholdBytes)} must be positive (it is {GrowthThresholdBytes}); the default is {DefaultGrowthThresholdBytes} (500 MiB).");
        }

        if (!(LoadTolerance > 0) || double.IsInfinity(LoadTolerance))
        {
            errors.Add($"{nameof(LoadTolerance)} must be a positive finite number (it is {LoadTolerance}); the default is {DefaultLoadTolerance}.");
        }

        return errors;
    }
}
