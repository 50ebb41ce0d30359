using Resilience.Drill.Measurement;
using Resilience.Drill.Reporting;
using Resilience.Drill.Simulation;

namespace Resilience.Drill.Stacks;

/// <summary>
/// One way of serving a submission: the resilient stack (the five packages) or the incident's naive stack.
/// The writer loop runs the same flow over either.
/// </summary>
internal interface ISubmissionStack : IAsyncDisposable
{
    /// <summary>"resilient" or "naive".</summary>
    string Name { get; }

    /// <summary>Creates this stack's tables and connections before the writers start.</summary>
    Task PrepareAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Takes the writer's session lock, runs <paramref name="work"/>, and releases the lock the way this stack does.
    /// Throws <see cref="SessionBusyException"/> when the lock could not be taken.
    /// </summary>
    Task RunUnderSessionAsync(
        Writer writer, bool retryAfterForceQuit, RunRecorder recorder, Func<CancellationToken, Task> work, CancellationToken cancellationToken);

    /// <summary>Starts serving one request of <paramref name="writer"/>: the database work goes through the scope.</summary>
    IRequestScope BeginRequest(Writer writer);

    /// <summary>Looks up (or builds and keeps) the user's prompt context; returns its size in bytes.</summary>
    ValueTask<int> GetPromptAsync(Writer writer, CancellationToken cancellationToken);

    /// <summary>Object keys for a submission's page images (a retry of the same submission asks again).</summary>
    IReadOnlyList<string> CreateUploadKeys(Writer writer, SubmissionPlan plan);

    /// <summary>Object keys for one student's pages when the whole class uploads at the frozen instant <paramref name="instant"/>.</summary>
    IReadOnlyList<string> CreateBurstKeys(Writer writer, int pages, TimeProvider instant);

    /// <summary>The rolling p95 of session-lock hold times and whether it is above the alert threshold.</summary>
    (double P95Seconds, bool Alert) LockHoldSignal();

    /// <summary>Physical connections this stack's pools hold open right now (client side), when the pools can say.</summary>
    int? ClientConnections();

    /// <summary>The most physical connections this stack's pools may open together: workers x pool size.</summary>
    long ClientConnectionBudget { get; }

    /// <summary>Checks this stack's end state after every writer stopped: scores against the log, locks left, null scores.</summary>
    Task<IReadOnlyList<InvariantResult>> CheckInvariantsAsync(RunRecorder recorder, CancellationToken cancellationToken);
}

/// <summary>The database side of one request.</summary>
internal interface IRequestScope : IAsyncDisposable
{
    /// <summary>Nearest neighbours of the submission's embedding (pgvector); returns how many came back.</summary>
    Task<int> FindNeighboursAsync(float[] embedding, CancellationToken cancellationToken);

    /// <summary>Applies the submission's score change; <paramref name="points"/> is null when the score computation failed.</summary>
    Task ApplyScoreAsync(SubmissionPlan plan, int? points, CancellationToken cancellationToken);
}
