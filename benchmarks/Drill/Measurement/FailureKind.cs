namespace Resilience.Drill.Measurement;

/// <summary>Why a submission did not complete. Injected faults and the damage they cause are counted apart.</summary>
internal enum FailureKind
{
    /// <summary>Injected: the simulated AI call threw.</summary>
    AiError,

    /// <summary>Injected: the user force-quit during the AI call (the retry is a new submission).</summary>
    ForceQuit,

    /// <summary>The retry after a force-quit found the previous session's lock still held ("your previous session is still active").</summary>
    SessionStillActive,

    /// <summary>The session lock could not be taken within its wait for another reason.</summary>
    LockTimeout,

    /// <summary>The database refused or timed out a connection (pool starvation, "too many clients").</summary>
    ConnectionFailed,

    /// <summary>A null score reached the score update and was refused before any SQL (the resilient outcome).</summary>
    NullScoreRejected,

    /// <summary>The score write failed for another reason.</summary>
    ScoreFailed,

    /// <summary>Anything else (the message is kept in the report).</summary>
    Other,
}
