using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Resilience.Pooling;

/// <summary>
/// At host start, builds every registered pool (so the saturation watch runs from the start) and runs the fleet budget
/// check for those whose fleet is described; a fleet that does not fit stops the host with <see cref="FleetBudgetExceededException"/>.
/// </summary>
internal sealed class PostgresPoolStartup : IHostedService
{
    private readonly IServiceProvider _services;
    private readonly PostgresPoolRegistry _registry;

    public PostgresPoolStartup(IServiceProvider services, IOptions<PostgresPoolRegistry> registry)
    {
        _services = services;
        _registry = registry.Value;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var name in _registry.Names.Distinct(StringComparer.Ordinal))
        {
            var pool = _services.GetRequiredKeyedService<PostgresPool>(name);
            if (pool.Options.Fleet.IsDescribed && pool.Options.Fleet.CheckOnStart)
            {
                await pool.EnsureBudgetAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
