namespace Resilience.Pooling;

/// <summary>Options of the server saturation watch (the first alert signal of a connection storm).</summary>
public sealed class SaturationWatchOptions
{
    /// <summary>Whether the pool samples the server on a timer. Default <see langword="false"/>; on-demand sampling works either way.</summary>
    public bool Enabled { get; set; }

    /// <summary>Mean utilisation (server connections / <c>max_connections</c>, 0..1) over the window above which the alert fires. Default 0.70.</summary>
    public double Threshold { get; set; } = 0.70;

    /// <summary>
    /// How far back the mean reaches; the alert fires only after samples have been taken for this long. Default 60 seconds.
    /// </summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the timer samples when <see cref="Enabled"/>. Default 10 seconds.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(10);
}
