using Resilience.Caching;
using Resilience.Pooling;

namespace Resilience.Drill.Measurement;

/// <summary>
/// The product's own alert signals, pointed at the drill: Resilience.Pooling's saturation watch on a one-connection
/// monitor pool straight to PostgreSQL (opened before any load, so it can still sample a full server), and
/// Resilience.Caching's memory-growth watch on this process.
/// </summary>
internal sealed class DrillSignals : IAsyncDisposable, IServerConnectionsSignal, IMemoryGrowthSignal
{
    private readonly DrillSettings _settings;
    private readonly PostgresPool _monitor;
    private readonly ServerLimits _limits;
    private MemoryGrowthWatch _memory;

    private DrillSignals(DrillSettings settings, PostgresPool monitor, ServerLimits limits)
    {
        _settings = settings;
        _monitor = monitor;
        _limits = limits;
        _memory = NewMemoryWatch();
    }

    public IServerConnectionsSignal Server => this;

    public IMemoryGrowthSignal Memory => this;

    public ServerLimits Limits => _limits;

    public int AdmittedConnections => _limits.Admitted;

    public static async Task<DrillSignals> CreateAsync(DrillSettings settings, Infrastructure.ServiceSettings services, CancellationToken cancellationToken)
    {
        var monitor = new PostgresPool(new PostgresPoolOptions
        {
            Name = "drill-monitor",
            ConnectionString = services.Postgres,
            MaxSize = 1,
            IdleTimeout = TimeSpan.FromHours(1),
            Saturation = new SaturationWatchOptions
            {
                Threshold = settings.SaturationThreshold,
                Window = TimeSpan.FromSeconds(settings.SaturationWindowSeconds),
            },
        });
        var limits = await monitor.ReadServerLimitsAsync(cancellationToken);
        return new DrillSignals(settings, monitor, limits);
    }

    public async Task<(int Connections, int MaxConnections, double Utilisation, bool Alert)> SampleAsync(CancellationToken cancellationToken)
    {
        var reading = await _monitor.Saturation.SampleAsync(cancellationToken);
        return (reading.ServerConnections, reading.MaxConnections, reading.Utilization, reading.IsAlerting);
    }

    public void Reset()
    {
        _memory.Dispose();
        _memory = NewMemoryWatch();
    }

    public (double ResidentMegabytes, double GrowthMegabytes, bool Alert) Sample()
    {
        var snapshot = _memory.SampleNow();
        return (snapshot.ResidentBytes / 1048576.0, snapshot.GrowthBytes / 1048576.0, snapshot.IsAlerting);
    }

    public async Task<string> ServerVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _monitor.OpenConnectionAsync(cancellationToken);
        return connection.PostgreSqlVersion.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        _memory.Dispose();
        await _monitor.DisposeAsync();
    }

    private MemoryGrowthWatch NewMemoryWatch() => new(new MemoryWatchOptions
    {
        Name = "drill",
        Window = TimeSpan.FromSeconds(_settings.MemoryWindowSeconds),
        SampleInterval = TimeSpan.FromSeconds(1),
        GrowthThresholdBytes = _settings.MemoryAlertMegabytes * 1048576L,
    });
}
