using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.Uploads;
using Resilience.Uploads.DependencyInjection;
using Resilience.Uploads.Telemetry;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers named upload-key templates.</summary>
public static class UploadKeysServiceCollectionExtensions
{
    /// <summary>
    /// Registers the default (unnamed) template: resolve <see cref="UploadKeyGenerator"/> directly. Options are validated at
    /// start; one <see cref="OptionsValidationException"/> lists every problem.
    /// </summary>
    public static IServiceCollection AddUploadKeys(this IServiceCollection services, Action<UploadKeyOptions> configure) =>
        services.AddUploadKeys(Options.Options.DefaultName, configure);

    /// <summary>
    /// Registers a named template: resolve it with <c>[FromKeyedServices("name")] UploadKeyGenerator</c> or
    /// <c>GetRequiredKeyedService&lt;UploadKeyGenerator&gt;("name")</c>. Options are validated at start.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The template's name, e.g. <c>submissions</c>.</param>
    /// <param name="configure">Sets the template, fields and other options.</param>
    public static IServiceCollection AddUploadKeys(this IServiceCollection services, string name, Action<UploadKeyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddCore(services, name).Configure(configure);
        return services;
    }

    /// <summary>Registers a named template bound to a configuration section (keys as in <see cref="UploadKeyOptions"/>).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The template's name.</param>
    /// <param name="configuration">The section, e.g. <c>configuration.GetSection("Uploads:Submissions")</c>.</param>
    public static IServiceCollection AddUploadKeys(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services, name).Bind(configuration);
        return services;
    }

    private static OptionsBuilder<UploadKeyOptions> AddCore(IServiceCollection services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new UploadMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddSingleton(sp => new UploadIdGenerator(
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger<UploadIdGenerator>(),
            sp.GetRequiredService<UploadMetrics>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<UploadKeyOptions>, UploadKeyOptionsValidator>());
        services.TryAddKeyedSingleton(name, (sp, _) => new UploadKeyGenerator(
            name,
            sp.GetRequiredService<IOptionsMonitor<UploadKeyOptions>>().Get(name),
            sp.GetRequiredService<UploadIdGenerator>(),
            sp.GetRequiredService<UploadMetrics>()));
        if (name == Options.Options.DefaultName)
        {
            services.TryAddSingleton(sp => sp.GetRequiredKeyedService<UploadKeyGenerator>(Options.Options.DefaultName));
        }

        return services.AddOptions<UploadKeyOptions>(name).ValidateOnStart();
    }
}
