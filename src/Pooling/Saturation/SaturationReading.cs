namespace Resilience.Pooling;

/// <summary>One sample of the server's connection saturation.</summary>
/// <param name="SampledAt">When the sample was taken (from the pool's <see cref="TimeProvider"/>).</param>
/// <param name="ServerConnections">Client backends on the server (<c>pg_stat_activity</c>, <c>backend_type = 'client backend'</c>).</param>
/// <param name="MaxConnections">The server's <c>max_connections</c>.</param>
/// <param name="Utilization">ServerConnections / MaxConnections, 0..1.</param>
/// <param name="IsAlerting">Whether utilisation has stayed above the threshold for the whole window.</param>
/// <param name="AboveThresholdSince">When the current run above the threshold started, or <see langword="null"/>.</param>
public sealed record SaturationReading(
    DateTimeOffset SampledAt,
    int ServerConnections,
    int MaxConnections,
    double Utilization,
    bool IsAlerting,
    DateTimeOffset? AboveThresholdSince);
