namespace Resilience.Pooling;

/// <summary>One sample of the server's connection saturation.</summary>
/// <param name="SampledAt">When the sample was taken (from the pool's <see cref="TimeProvider"/>).</param>
/// <param name="ServerConnections">Client backends on the server (<c>pg_stat_activity</c>, <c>backend_type = 'client backend'</c>).</param>
/// <param name="MaxConnections">The server's <c>max_connections</c>.</param>
/// <param name="Utilization">ServerConnections / MaxConnections, 0..1.</param>
/// <param name="IsAlerting">Whether the mean utilisation of the last window's samples is above the threshold (after a whole window of samples).</param>
/// <param name="AboveThresholdSince">Since when that mean has been above the threshold, or <see langword="null"/>.</param>
public sealed record SaturationReading(
    DateTimeOffset SampledAt,
    int ServerConnections,
    int MaxConnections,
    double Utilization,
    bool IsAlerting,
    DateTimeOffset? AboveThresholdSince);
