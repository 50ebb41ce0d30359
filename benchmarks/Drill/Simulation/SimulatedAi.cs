namespace Resilience.Drill.Simulation;

/// <summary>The AI grading call: waits its planned latency, then answers or throws.</summary>
internal static class SimulatedAi
{
    public static async Task CallAsync(SubmissionPlan plan, CancellationToken cancellationToken)
    {
        await Task.Delay(plan.AiLatency, cancellationToken);
        if (plan.AiThrows)
        {
            throw new AiServiceException("the AI provider returned 529 overloaded");
        }
    }
}

/// <summary>Injected fault: the AI call failed.</summary>
internal sealed class AiServiceException(string message) : Exception(message);

/// <summary>The user who started this request force-quit the app; the handler finds out when it tries to answer.</summary>
internal sealed class ClientGoneException() : Exception("the client disconnected before the answer was written");

/// <summary>The session lock was held by someone else (for a retry after a force-quit: by the user's own previous session).</summary>
internal sealed class SessionBusyException(string message) : Exception(message);

/// <summary>The score update refused a null score before any SQL ran (the resilient outcome).</summary>
internal sealed class NullScoreRejectedException(string message, Exception inner) : Exception(message, inner);

/// <summary>The score update failed for a reason other than a null score.</summary>
internal sealed class ScoreWriteException(string message, Exception inner) : Exception(message, inner);
