using System.Data.Common;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.Pooling;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="PostgresPool"/> instances.</summary>
public static class PostgresPoolServiceCollectionExtensions
{
    /// <summary>The name used by the overloads without one.</summary>
    public const string DefaultName = "default";

    /// <summary>Registers the default pool (name <see cref="DefaultName"/>).</summary>
    public static IServiceCollection AddPostgresPool(this IServiceCollection services, Action<PostgresPoolOptions> configure) =>
        services.AddPostgresPool(DefaultName, configure);

    /// <summary>
    /// Registers a named pool: a keyed singleton <see cref="PostgresPool"/> (and keyed <see cref="DbDataSource"/>) under
    /// <paramref name="name"/>; the first pool registered is also the unkeyed <see cref="PostgresPool"/> and <see cref="DbDataSource"/>.
    /// Options are validated at start (one exception listing every problem); a host also runs the fleet budget check at start.
    /// <see cref="TimeProvider"/>, <see cref="ILoggerFactory"/> and <see cref="IMeterFactory"/> come from the container.
    /// </summary>
    public static IServiceCollection AddPostgresPool(this IServiceCollection services, string name, Action<PostgresPoolOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddPostgresPoolCore(name, builder => builder.Configure(configure));
    }

    /// <summary>Registers a named pool bound to a configuration section (see <see cref="AddPostgresPool(IServiceCollection, string, Action{PostgresPoolOptions})"/>).</summary>
    public static IServiceCollection AddPostgresPool(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddPostgresPoolCore(name, builder => builder.Bind(configuration));
    }

    private static IServiceCollection AddPostgresPoolCore(this IServiceCollection services, string name, Action<OptionsBuilder<PostgresPoolOptions>> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);

        var options = services.AddOptions<PostgresPoolOptions>(name);
        configure(options);
        options.PostConfigure(o => o.Name ??= name).ValidateOnStart();

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresPoolOptions>, PostgresPoolOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.Configure<PostgresPoolRegistry>(registry => registry.Names.Add(name));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgresPoolStartup>());

        services.TryAddKeyedSingleton(name, static (sp, key) => new PostgresPool(
            sp.GetRequiredService<IOptionsMonitor<PostgresPoolOptions>>().Get((string)key!),
            sp.GetService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<IMeterFactory>()));
        services.TryAddKeyedSingleton<DbDataSource>(name, static (sp, key) => sp.GetRequiredKeyedService<PostgresPool>(key));
        services.TryAddSingleton(sp => sp.GetRequiredKeyedService<PostgresPool>(name));
        services.TryAddSingleton<DbDataSource>(sp => sp.GetRequiredKeyedService<PostgresPool>(name));
        return services;
    }
}
