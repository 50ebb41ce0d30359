using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.Locks;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="RedisLockProvider"/> instances.</summary>
public static class RedisLocksServiceCollectionExtensions
{
    /// <summary>
    /// Registers the default <see cref="RedisLockProvider"/> (lock name <c>"default"</c>) as a singleton, with options validated at
    /// start. Uses the container's <see cref="IConnectionMultiplexer"/> when one is registered, otherwise connects with
    /// <see cref="RedisLockOptions.Configuration"/>. Time comes from the container's <see cref="TimeProvider"/> (system by default).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddRedisLocks(this IServiceCollection services, Action<RedisLockOptions>? configure = null) =>
        AddCore(services, null, configure, null);

    /// <summary>Registers the default <see cref="RedisLockProvider"/> with options bound from a configuration section.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section holding <see cref="RedisLockOptions"/> properties.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddRedisLocks(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return AddCore(services, null, null, configuration);
    }

    /// <summary>
    /// Registers a named <see cref="RedisLockProvider"/> as a keyed singleton (resolve it with
    /// <c>GetRequiredKeyedService&lt;RedisLockProvider&gt;(name)</c> or <c>[FromKeyedServices(name)]</c>). Its key prefix defaults to
    /// the name, and its hold-time statistics, metrics tag and logs use the name.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The lock name, e.g. <c>"grading-session"</c>.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddRedisLocks(this IServiceCollection services, string name, Action<RedisLockOptions>? configure = null)
    {
        InvalidName(name);
        return AddCore(services, name, configure, null);
    }

    /// <summary>Registers a named <see cref="RedisLockProvider"/> with options bound from a configuration section.</summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The lock name.</param>
    /// <param name="configuration">The section holding <see cref="RedisLockOptions"/> properties.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddRedisLocks(this IServiceCollection services, string name, IConfiguration configuration)
    {
        InvalidName(name);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddCore(services, name, null, configuration);
    }

    private static void InvalidName(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("The lock name must not be empty or whitespace.", nameof(name));
        }
    }

    private static IServiceCollection AddCore(IServiceCollection services, string? name, Action<RedisLockOptions>? configure, IConfiguration? configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsName = name ?? Options.Options.DefaultName;
        var builder = services.AddOptions<RedisLockOptions>(optionsName);
        if (name is not null)
        {
            builder.Configure(o => o.KeyPrefix = name);
        }

        if (configuration is not null)
        {
            builder.Bind(configuration);
        }

        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisLockOptions>, ContainerRedisLockOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        if (name is null)
        {
            services.TryAddSingleton(sp => Create(sp, optionsName, RedisLockProvider.DefaultName));
        }
        else
        {
            services.TryAddKeyedSingleton(name, (sp, _) => Create(sp, optionsName, name));
        }

        return services;
    }

    private static RedisLockProvider Create(IServiceProvider sp, string optionsName, string lockName)
    {
        var options = sp.GetRequiredService<IOptionsMonitor<RedisLockOptions>>().Get(optionsName);
        var redis = sp.GetService<IConnectionMultiplexer>();
        var owns = false;
        if (redis is null)
        {
            var config = ConfigurationOptions.Parse(options.Configuration!);
            config.AbortOnConnectFail = false;
            redis = ConnectionMultiplexer.Connect(config);
            owns = true;
        }

        return new RedisLockProvider(
            redis,
            owns,
            options,
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<IMeterFactory>(),
            lockName);
    }
}
