using System.Data.Common;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.Scoring;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="ScoreStore"/> (as itself and as <see cref="IScoreStore"/>) with validated options.</summary>
public static class ScoringServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="ScoreStore"/> on the container's <see cref="DbDataSource"/>
    /// (for example from <c>AddNpgsqlDataSource</c>). Options are validated at start, every problem in one exception,
    /// including a missing <see cref="DbDataSource"/> registration.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options; <see langword="null"/> keeps the defaults.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddScoring(this IServiceCollection services, Action<ScoringOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (AddScoringCore(services, static sp => sp.GetRequiredService<DbDataSource>(), configure))
        {
            // Only when this call registered the store: a store registered earlier with its own data source needs none here.
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ScoringOptions>, ScoringDataSourceValidator>(
                static sp => new ScoringDataSourceValidator(sp.GetService<IServiceProviderIsService>())));
        }

        return services;
    }

    /// <summary>Registers a singleton <see cref="ScoreStore"/> on the data source <paramref name="dataSource"/> returns.</summary>
    /// <param name="services">The services.</param>
    /// <param name="dataSource">Picks the data source (its connections must be <c>NpgsqlConnection</c>s).</param>
    /// <param name="configure">Sets the options; <see langword="null"/> keeps the defaults.</param>
    /// <returns>The services, for chaining.</returns>
    /// <remarks>
    /// <paramref name="dataSource"/> runs when the store is first resolved, not at start: start-up validation cannot call it
    /// without creating the data source early. With the overload without it, a missing <see cref="DbDataSource"/> is reported
    /// at start.
    /// </remarks>
    public static IServiceCollection AddScoring(
        this IServiceCollection services, Func<IServiceProvider, DbDataSource> dataSource, Action<ScoringOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(dataSource);
        AddScoringCore(services, dataSource, configure);
        return services;
    }

    private static bool AddScoringCore(IServiceCollection services, Func<IServiceProvider, DbDataSource> dataSource, Action<ScoringOptions>? configure)
    {
        var added = !services.Any(d => d.ServiceType == typeof(ScoreStore) && !d.IsKeyedService);

        var options = services.AddOptions<ScoringOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ScoringOptions>, ScoringOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ScoreStore(
            dataSource(sp),
            sp.GetRequiredService<IOptions<ScoringOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger<ScoreStore>(),
            sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IScoreStore>(static sp => sp.GetRequiredService<ScoreStore>());
        return added;
    }
}
