namespace Resilience.Pooling;

/// <summary>Options of the server saturation watch (the first alert signal of a connection storm).</summary>
public sealed class SaturationWatchOptions
{
    /// <summary>Whether the pool samples the server on a timer. Default <see langword="false"/>; on-demand sampling works either way.</summary>
    public bool Enabled { get; set; }

    /// <summary>Utilisation (server connections / <c>max_connections</c>, 0..1) above which the alert starts counting. Default 0.70.</summary>
    public double Threshold { get; set; } = 0.70;

    /// <summary>How long utilisation must stay above <see cref="Threshold"/> before the alert fires. Default 60 seconds.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the timer samples when <see cref="Enabled"/>. Default 10 seconds.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(10);
}
