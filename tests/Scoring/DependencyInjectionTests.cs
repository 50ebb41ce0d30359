using System.Data.Common;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

public sealed class DependencyInjectionTests(ServiceFixture services)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddScoring_uses_the_containers_data_source_options_and_time_provider()
    {
        var schema = $"scoring_test_{Guid.NewGuid():N}";
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 4, 3, 2, 1, TimeSpan.Zero));
        var builder = new NpgsqlConnectionStringBuilder(await services.PostgresAsync()) { MaxPoolSize = 4 };
        await using var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        var collection = new ServiceCollection();
        collection.AddSingleton<DbDataSource>(dataSource);
        collection.AddSingleton<TimeProvider>(time);
        collection.AddScoring(o => (o.Schema, o.MinScore, o.MaxScore) = (schema, -10, 10));
        collection.AddScoring(o => o.MaxBatchSize = 7); // a second call configures the same store; it adds no second one

        await using var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        provider.GetRequiredService<IStartupValidator>().Validate();
        var store = provider.GetRequiredService<IScoreStore>();
        try
        {
            Assert.Same(provider.GetRequiredService<ScoreStore>(), store);
            Assert.Equal(schema, ((ScoreStore)store).Schema);
            Assert.Equal(7, provider.GetRequiredService<IOptions<ScoringOptions>>().Value.MaxBatchSize);

            var result = await store.ApplyAsync(ScoreEvent.Add("e1", "u", "c", 9), Ct);
            Assert.Equal(9, result.Score);
            Assert.Equal(time.GetUtcNow(), (await store.GetAsync("u", "c", Ct))!.UpdatedAt);
            await Assert.ThrowsAsync<ScoreValidationException>(() => store.ApplyAsync(ScoreEvent.Add("e2", "u", "c", 21), Ct));
        }
        finally
        {
            await using var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE");
            await drop.ExecuteNonQueryAsync(Ct);
        }
    }

    [Fact]
    public void Invalid_options_fail_at_start_with_one_exception_listing_every_problem()
    {
        var collection = new ServiceCollection();
        collection.AddScoring(
            _ => new NotNpgsqlDataSource(),
            o =>
            {
                o.Schema = "Bad-Name";
                o.MinScore = double.NaN;
                o.MaxScore = 1e20;
                o.MaxIdLength = 0;
                o.MaxBatchSize = -1;
                o.MaxConcurrentApplyBatches = 0;
            });
        using var provider = collection.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal(6, error.Failures.Count());
        foreach (var field in new[] { "Schema", "MinScore", "MaxScore", "MaxIdLength", "MaxBatchSize", "MaxConcurrentApplyBatches" })
        {
            Assert.Contains(error.Failures, f => f.Contains($"ScoringOptions.{field}", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(5, 5)]
    [InlineData(10, 0)]
    public void Min_must_be_below_max(double min, double max)
    {
        var error = Assert.Throws<OptionsValidationException>(() => new ScoreStore(new NotNpgsqlDataSource(), new ScoringOptions { MinScore = min, MaxScore = max }));

        Assert.Contains("must be less than ScoringOptions.MaxScore", Assert.Single(error.Failures));
    }

    [Fact]
    public async Task Metrics_count_applied_duplicates_rejected_by_reason_and_conflicts_and_time_applies_in_seconds()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        using var meterFactory = new TestMeterFactory();
        using var store = new ScoreStore(db.DataSource, db.Options, db.Time, null, meterFactory);
        using var applied = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(meterFactory, "Resilience.Scoring", "resilience.scoring.events.applied");
        using var duplicates = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(meterFactory, "Resilience.Scoring", "resilience.scoring.events.duplicates");
        using var rejected = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(meterFactory, "Resilience.Scoring", "resilience.scoring.events.rejected");
        using var conflicts = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(meterFactory, "Resilience.Scoring", "resilience.scoring.conflicts");
        using var duration = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<double>(meterFactory, "Resilience.Scoring", "resilience.scoring.apply.duration");

        await store.ApplyAsync(ScoreEvent.Add("e1", "u", "c", 1), Ct);
        await store.ApplyBatchAsync([ScoreEvent.Add("e2", "u", "c", 1), ScoreEvent.Add("e1", "u", "c", 1), ScoreEvent.Add("e3", "v", "c", 1)], Ct);
        await Assert.ThrowsAsync<ScoreValidationException>(() => store.ApplyAsync(ScoreEvent.Add("e4", "u", "c", double.NaN), Ct));
        await Assert.ThrowsAsync<ScoreValidationException>(() => store.ApplyAsync(ScoreEvent.Add("e5", "", "c", 1), Ct));
        await Assert.ThrowsAsync<ScoreVersionConflictException>(() => store.ApplyAsync(ScoreEvent.Add("e6", "u", "c", 1) with { ExpectedVersion = 99 }, Ct));

        Assert.Equal(3, applied.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, duplicates.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(
            [("nan", "Value"), ("empty", "UserId")],
            rejected.GetMeasurementSnapshot().Select(m => ((string)m.Tags["resilience.scoring.rejection.reason"]!, (string)m.Tags["resilience.scoring.field"]!)));
        Assert.Equal(1, conflicts.GetMeasurementSnapshot().Sum(m => m.Value));

        var durations = duration.GetMeasurementSnapshot();
        Assert.Equal(["apply", "apply_batch", "apply"], durations.Select(m => (string)m.Tags["resilience.scoring.operation"]!));
        Assert.All(durations, m => Assert.InRange(m.Value, 0, 60));
        Assert.Equal("RS001", durations[2].Tags["error.type"]);
        Assert.Equal("s", duration.Instrument!.Unit);
        Assert.Equal(db.Schema, duration.Instrument.Meter.Tags!.Single(t => t.Key == "resilience.scoring.schema").Value);
    }
}

public sealed class DataSourceStartupTests
{
    [Fact]
    public void A_missing_DbDataSource_fails_at_start_in_the_same_exception_as_the_other_problems()
    {
        var collection = new ServiceCollection();
        collection.AddScoring(o => o.MaxBatchSize = 0);
        using var provider = collection.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal(2, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.Contains("no DbDataSource is registered", StringComparison.Ordinal) && f.Contains("AddNpgsqlDataSource", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("ScoringOptions.MaxBatchSize", StringComparison.Ordinal));
    }

    [Fact]
    public void A_registered_DbDataSource_or_an_explicit_one_passes_start_up_validation()
    {
        var withContainerSource = new ServiceCollection();
        withContainerSource.AddSingleton<DbDataSource>(new NotNpgsqlDataSource());
        withContainerSource.AddScoring();
        using (var provider = withContainerSource.BuildServiceProvider())
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            Assert.NotNull(provider.GetRequiredService<IScoreStore>());
        }

        // The explicit overload registered first wins; a later AddScoring() only configures it and requires no DbDataSource.
        var explicitSource = new ServiceCollection();
        explicitSource.AddScoring(_ => new NotNpgsqlDataSource());
        explicitSource.AddScoring(o => o.MaxBatchSize = 5);
        using (var provider = explicitSource.BuildServiceProvider())
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            Assert.NotNull(provider.GetRequiredService<IScoreStore>());
        }
    }
}
