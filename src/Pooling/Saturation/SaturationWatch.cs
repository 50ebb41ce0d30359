using Npgsql;

namespace Resilience.Pooling;

/// <summary>
/// Samples the server's client connections against <c>max_connections</c> through its pool (so it never opens a
/// connection beyond <c>MaxSize</c>), feeds the <see cref="SaturationRule"/>, and keeps the last reading for the
/// <c>resilience.pool.server.utilization</c> and <c>resilience.pool.server.saturation_alert</c> gauges.
/// Sample on demand with <see cref="SampleAsync"/>, or let the pool sample on a timer (<see cref="SaturationWatchOptions.Enabled"/>).
/// </summary>
public sealed class SaturationWatch
{
    private const string Query =
        "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int, current_setting('max_connections')::int";

    private readonly PostgresPool _pool;
    private readonly TimeProvider _timeProvider;
    private SaturationReading? _last;

    internal SaturationWatch(PostgresPool pool, SaturationWatchOptions options, TimeProvider timeProvider)
    {
        _pool = pool;
        _timeProvider = timeProvider;
        Rule = new SaturationRule(options.Threshold, options.Window);
    }

    /// <summary>The alert rule (threshold and window).</summary>
    public SaturationRule Rule { get; }

    /// <summary>The last reading, or <see langword="null"/> before the first sample.</summary>
    public SaturationReading? LastReading => Volatile.Read(ref _last);

    /// <summary>Takes one sample now (one lease from the pool, one query), updates the alert state and returns the reading.</summary>
    public async Task<SaturationReading> SampleAsync(CancellationToken cancellationToken = default)
    {
        int connections;
        int max;
        var connection = await _pool.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new NpgsqlCommand(Query, connection);
            await using var commandScope = command.ConfigureAwait(false);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                connections = reader.GetInt32(0);
                max = reader.GetInt32(1);
            }
        }

        return Observe(connections, max);
    }

    /// <summary>Feeds a sample taken elsewhere (or by a test) into the rule.</summary>
    internal SaturationReading Observe(int connections, int maxConnections)
    {
        var now = _timeProvider.GetUtcNow();
        var utilization = maxConnections <= 0 ? 0 : (double)connections / maxConnections;
        var (alerting, since) = Rule.Observe(utilization, now);
        var reading = new SaturationReading(now, connections, maxConnections, utilization, alerting, since);
        Volatile.Write(ref _last, reading);
        return reading;
    }
}
