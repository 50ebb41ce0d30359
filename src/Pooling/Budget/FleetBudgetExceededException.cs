namespace Resilience.Pooling;

/// <summary>The fleet could open more connections than the server admits minus the headroom; the message shows the arithmetic.</summary>
public sealed class FleetBudgetExceededException : PostgresPoolException
{
    internal FleetBudgetExceededException(string poolName, FleetBudgetReport report)
        : base(poolName, $"Pool '{poolName}' refuses to start: {report.Arithmetic}")
    {
        Report = report;
    }

    /// <summary>The numbers behind the refusal.</summary>
    public FleetBudgetReport Report { get; }
}
