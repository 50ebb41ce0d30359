using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.Caching;
using Resilience.Caching.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers capped caches, the <see cref="IMemoryCache"/> adapter and the memory-growth watch.</summary>
public static class CachingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the default (unnamed) <see cref="LruCache{TKey, TValue}"/> as a singleton, with options validated at start.
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options; <see cref="CacheOptions.Capacity"/> is required.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddLruCache<TKey, TValue>(this IServiceCollection services, Action<CacheOptions<TKey, TValue>> configure)
        where TKey : notnull
        => services.AddLruCache(Options.Options.DefaultName, configure);

    /// <summary>
    /// Registers a named <see cref="LruCache{TKey, TValue}"/> as a keyed singleton (key = <paramref name="name"/>), with
    /// options validated at start. The unnamed cache (<see cref="Options.Options.DefaultName"/>) is also registered unkeyed.
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="name">The cache's name: the service key, options name and metric tag.</param>
    /// <param name="configure">Sets the options; <see cref="CacheOptions.Capacity"/> is required.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddLruCache<TKey, TValue>(this IServiceCollection services, string name, Action<CacheOptions<TKey, TValue>> configure)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddLruCacheCore<TKey, TValue>(name, builder => builder.Configure(configure));
    }

    /// <summary>
    /// Registers a named <see cref="LruCache{TKey, TValue}"/> bound to a configuration section (<c>Capacity</c>,
    /// <c>WeightCap</c>, <c>TimeToLive</c>, <c>SlidingExpiration</c>), then <paramref name="configure"/> (for the weigher).
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="name">The cache's name: the service key, options name and metric tag.</param>
    /// <param name="section">The configuration section to bind.</param>
    /// <param name="configure">Optional further configuration, applied after binding.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddLruCache<TKey, TValue>(this IServiceCollection services, string name, IConfiguration section, Action<CacheOptions<TKey, TValue>>? configure = null)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(section);
        return services.AddLruCacheCore<TKey, TValue>(name, builder =>
        {
            builder.Bind(section);
            if (configure is not null)
            {
                builder.Configure(configure);
            }
        });
    }

    /// <summary>
    /// Replaces any registered <see cref="IMemoryCache"/> with a <see cref="CappedMemoryCache"/> singleton (also resolvable
    /// as <see cref="CappedMemoryCache"/>), so existing call sites get the strict cap unchanged. Options are validated at start.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options; <see cref="CacheOptions.Capacity"/> is required.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddCappedMemoryCache(this IServiceCollection services, Action<CappedMemoryCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var name = Options.Options.DefaultName;
        AddCappedMemoryCacheOptions(services, name, configure);
        services.RemoveAll<IMemoryCache>();
        services.TryAddSingleton(sp => CreateMemoryCache(sp, name));
        services.AddSingleton<IMemoryCache>(sp => sp.GetRequiredService<CappedMemoryCache>());
        return services;
    }

    /// <summary>
    /// Registers a named <see cref="CappedMemoryCache"/> as a keyed <see cref="IMemoryCache"/> and keyed
    /// <see cref="CappedMemoryCache"/> (key = <paramref name="name"/>). Options are validated at start.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The cache's name: the service key, options name and metric tag.</param>
    /// <param name="configure">Sets the options; <see cref="CacheOptions.Capacity"/> is required.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddCappedMemoryCache(this IServiceCollection services, string name, Action<CappedMemoryCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(configure);
        AddCappedMemoryCacheOptions(services, name, configure);
        services.TryAddKeyedSingleton(name, (sp, _) => CreateMemoryCache(sp, name));
        services.TryAddKeyedSingleton<IMemoryCache>(name, (sp, key) => sp.GetRequiredKeyedService<CappedMemoryCache>(key));
        return services;
    }

    /// <summary>
    /// Registers a <see cref="MemoryGrowthWatch"/> singleton, options validated at start. Its timer starts when the watch is
    /// first resolved: resolve it at start-up (or inject it) to begin sampling.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Optionally changes the defaults (5-minute window, 500 MiB threshold, 10-second interval).</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddMemoryGrowthWatch(this IServiceCollection services, Action<MemoryWatchOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        var builder = services.AddOptions<MemoryWatchOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MemoryWatchOptions>, MemoryWatchOptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var watch = new MemoryGrowthWatch(
                sp.GetRequiredService<IOptions<MemoryWatchOptions>>().Value,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<IMeterFactory>(),
                sp.GetService<ILoggerFactory>()?.CreateLogger<MemoryGrowthWatch>());
            watch.Start();
            return watch;
        });
        return services;
    }

    private static IServiceCollection AddLruCacheCore<TKey, TValue>(this IServiceCollection services, string name, Action<OptionsBuilder<CacheOptions<TKey, TValue>>> configure)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        services.TryAddSingleton(TimeProvider.System);
        var builder = services.AddOptions<CacheOptions<TKey, TValue>>(name);
        configure(builder);
        builder.PostConfigure(options => options.Name ??= NameOrDefault(name)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CacheOptions<TKey, TValue>>, CacheOptionsValidator<CacheOptions<TKey, TValue>>>());
        services.TryAddKeyedSingleton(name, (sp, _) => new LruCache<TKey, TValue>(
            sp.GetRequiredService<IOptionsMonitor<CacheOptions<TKey, TValue>>>().Get(name),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<IMeterFactory>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger<LruCache<TKey, TValue>>()));
        if (name == Options.Options.DefaultName)
        {
            services.TryAddSingleton(sp => sp.GetRequiredKeyedService<LruCache<TKey, TValue>>(name));
        }

        return services;
    }

    private static void AddCappedMemoryCacheOptions(IServiceCollection services, string name, Action<CappedMemoryCacheOptions> configure)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<CappedMemoryCacheOptions>(name)
            .Configure(configure)
            .PostConfigure(options => options.Name ??= NameOrDefault(name))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CappedMemoryCacheOptions>, CacheOptionsValidator<CappedMemoryCacheOptions>>());
    }

    private static CappedMemoryCache CreateMemoryCache(IServiceProvider sp, string name) => new(
        sp.GetRequiredService<IOptionsMonitor<CappedMemoryCacheOptions>>().Get(name),
        sp.GetRequiredService<TimeProvider>(),
        sp.GetService<IMeterFactory>(),
        sp.GetService<ILoggerFactory>()?.CreateLogger<CappedMemoryCache>());

    private static string NameOrDefault(string name) => name.Length == 0 ? "default" : name;
}
