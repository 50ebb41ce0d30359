using System.Diagnostics;
using System.Globalization;
using Resilience.Drill.Reporting;
using Resilience.Drill.Stacks;

namespace Resilience.Drill.Measurement;

/// <summary>Reads of the server-connection signal (Resilience.Pooling's saturation watch).</summary>
internal interface IServerConnectionsSignal
{
    /// <summary>max_connections - superuser_reserved_connections: what ordinary roles are admitted.</summary>
    int AdmittedConnections { get; }

    Task<(int Connections, int MaxConnections, double Utilisation, bool Alert)> SampleAsync(CancellationToken cancellationToken);
}

/// <summary>Reads of the process-memory-growth signal (Resilience.Caching's memory watch).</summary>
internal interface IMemoryGrowthSignal
{
    /// <summary>Starts a fresh window (each mode measures its own growth).</summary>
    void Reset();

    (double ResidentMegabytes, double GrowthMegabytes, bool Alert) Sample();
}

/// <summary>Samples the three alert signals once a second while a mode runs, and summarises whether each fired.</summary>
internal sealed class SignalMonitor(DrillSettings settings, IServerConnectionsSignal server, IMemoryGrowthSignal memory)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public int ServerBudget => server.AdmittedConnections;

    public async Task RunAsync(
        ISubmissionStack stack, List<SignalSample> samples, long started, Action<SignalSample> onSample, CancellationToken cancellationToken)
    {
        memory.Reset();
        using var timer = new PeriodicTimer(Interval);
        do
        {
            var (connections, maxConnections, utilisation, saturated) = await server.SampleAsync(CancellationToken.None);
            var (resident, growth, growing) = memory.Sample();
            var (holdP95, holdAlert) = stack.LockHoldSignal();
            var sample = new SignalSample(
                Stopwatch.GetElapsedTime(started).TotalSeconds, connections, maxConnections, utilisation, saturated,
                resident, growth, growing, holdP95, holdAlert, stack.ClientConnections());
            lock (samples)
            {
                samples.Add(sample);
            }

            onSample(sample);
        }
        while (await WaitAsync(timer, cancellationToken));
    }

    public IReadOnlyList<AlertSummary> Summarise(IReadOnlyList<SignalSample> samples)
    {
        static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
        var worstUtilisation = samples.Count == 0 ? 0 : samples.Max(s => s.Utilisation);
        var worstGrowth = samples.Count == 0 ? 0 : samples.Max(s => s.MemoryGrowthMegabytes);
        var worstHold = samples.Count == 0 ? 0 : samples.Max(s => s.LockHoldP95Seconds);
        return
        [
            new("server connections vs max_connections", samples.Any(s => s.SaturationAlert),
                $"{F(worstUtilisation * 100, "0")} %",
                $"mean > {F(settings.SaturationThreshold * 100, "0")} % over {F(settings.SaturationWindowSeconds, "0.#")} s"),
            new("process memory growth", samples.Any(s => s.MemoryAlert),
                $"{F(worstGrowth, "0")} MB",
                $"> {settings.MemoryAlertMegabytes} MB in {F(settings.MemoryWindowSeconds, "0.#")} s"),
            new("lock hold time p95", samples.Any(s => s.LockHoldAlert),
                $"{F(worstHold, "0.00")} s",
                $"> {F(settings.LockAlertSeconds, "0.0#")} s"),
        ];
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
