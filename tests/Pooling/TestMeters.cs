using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Resilience.Pooling.Tests;

/// <summary>A meter factory per test, so collectors see only that test's pool even when tests run in parallel.</summary>
internal sealed class TestMeters : IDisposable
{
    private readonly ServiceProvider _provider = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public IMeterFactory Factory => _provider.GetRequiredService<IMeterFactory>();

    public MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(Factory, PoolMetricsNames.Meter, instrument);

    public void Dispose() => _provider.Dispose();
}
