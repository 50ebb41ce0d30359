using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Resilience.TestSupport;

namespace Resilience.Pooling.Tests;

public sealed class DependencyInjectionTests(ServiceFixture services)
{
    [Fact]
    public async Task Named_pools_are_keyed_and_the_first_is_the_default_DbDataSource()
    {
        var connectionString = await services.PostgresAsync();
        var time = new FakeTimeProvider();
        var collection = new ServiceCollection();
        collection.AddSingleton<TimeProvider>(time);
        collection.AddLogging();
        collection.AddPostgresPool("vectors", o => { o.ConnectionString = connectionString; o.MaxSize = 2; });
        collection.AddPostgresPool("reports", o => { o.ConnectionString = connectionString; o.MaxSize = 1; });
        collection.AddPostgresPool("vectors", o => o.MaxSize = 3); // TryAdd: the second registration of a name only adds configuration
        await using var provider = collection.BuildServiceProvider();

        var vectors = provider.GetRequiredKeyedService<PostgresPool>("vectors");
        var reports = provider.GetRequiredKeyedService<PostgresPool>("reports");
        Assert.NotSame(vectors, reports);
        Assert.Equal("vectors", vectors.Name);
        Assert.Equal(3, vectors.MaxSize);
        Assert.Equal(1, reports.MaxSize);
        Assert.Same(vectors, provider.GetRequiredService<PostgresPool>());
        Assert.Same(vectors, provider.GetRequiredService<DbDataSource>());
        Assert.Same(reports, provider.GetRequiredKeyedService<DbDataSource>("reports"));

        // TimeProvider comes from the container.
        Assert.Equal(time.GetUtcNow(), vectors.Saturation.Observe(1, 100).SampledAt);

        await using var connection = await reports.OpenConnectionAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, reports.GetSnapshot().Busy);
    }
}
