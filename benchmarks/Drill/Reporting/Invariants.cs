using Resilience.Drill.Measurement;
using Resilience.Drill.Simulation;

namespace Resilience.Drill.Reporting;

/// <summary>The end-of-run checks both stacks share.</summary>
internal static class Invariants
{
    public static InvariantResult KeyCollisions(ObjectStore store) => new(
        "zero upload key collisions",
        store.Collisions == 0,
        $"{store.Writes:N0} object writes, {store.DistinctKeys:N0} distinct keys, {store.Collisions:N0} writes landed on another upload's key");

    /// <param name="recorder">The run's failures (refused or timed-out connections).</param>
    /// <param name="samples">The sampled server and client connection counts.</param>
    /// <param name="serverBudget">What the server admits to ordinary roles: max_connections - superuser_reserved_connections.</param>
    /// <param name="clientBudget">The stack's own cap: workers x pool size.</param>
    public static InvariantResult ConnectionBudget(RunRecorder recorder, IReadOnlyList<SignalSample> samples, int serverBudget, long clientBudget)
    {
        var serverPeak = samples.Count == 0 ? 0 : samples.Max(s => s.ServerConnections);
        var clientPeak = samples.Max(s => s.ClientConnections);
        var refused = recorder.Counter(Counters.ConnectionsRefused);
        var held = refused == 0 && serverPeak <= serverBudget && (clientPeak ?? 0) <= clientBudget;
        var pools = clientPeak is null
            ? $"pools may open {clientBudget:N0} (workers x pool size) and do not report their count"
            : $"pool peak {clientPeak} of {clientBudget} (workers x pool size)";
        return new InvariantResult(
            "physical connections never above the budget",
            held,
            $"server peak {serverPeak} of {serverBudget} admitted; {pools}; {refused:N0} connection attempts refused or timed out");
    }

    /// <param name="recorder">Counts sessions that ended while their own lock stayed in Redis.</param>
    /// <param name="leftAtEnd">Locks still held after every writer stopped.</param>
    public static InvariantResult NoLockLeftHeld(RunRecorder recorder, int leftAtEnd)
    {
        var outlived = recorder.Counter(Counters.LocksOutlivingSession);
        return new InvariantResult(
            "no lock left held", outlived == 0 && leftAtEnd == 0,
            $"{outlived:N0} sessions ended with their lock still held (until its TTL); {leftAtEnd} locks still held after every writer stopped");
    }

    public static InvariantResult NullScoresRejected(RunRecorder recorder)
    {
        var nulls = recorder.Counter(Counters.NullScoresInjected);
        var rejected = recorder.Failures(FailureKind.NullScoreRejected);
        return new InvariantResult(
            "every null score rejected", nulls == rejected,
            $"{nulls:N0} null scores produced, {rejected:N0} rejected before any SQL, {nulls - rejected:N0} written anyway");
    }
}
