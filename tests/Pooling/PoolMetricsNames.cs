namespace Resilience.Pooling.Tests;

internal static class PoolMetricsNames
{
    public const string Meter = "Resilience.Pooling";
}
