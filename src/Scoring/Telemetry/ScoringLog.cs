using Microsoft.Extensions.Logging;

namespace Resilience.Scoring;

/// <summary>The package's log messages.</summary>
internal static partial class ScoringLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Score event rejected before any SQL: {Field} {Reason}. {Detail}")]
    public static partial void Rejected(ILogger logger, string field, ScoreRejectionReason reason, string detail);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Score event {EventId} expected version {Expected} but found {Actual}; nothing written")]
    public static partial void Conflict(ILogger logger, string eventId, long expected, long actual);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Concurrent apply of the same event id in schema {Schema}; retrying (attempt {Attempt})")]
    public static partial void Retrying(ILogger logger, string schema, int attempt);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Scoring schema {Schema} migrated from version {From} to {To}")]
    public static partial void Migrated(ILogger logger, string schema, int from, int to);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Scoring schema {Schema} score range constraints set to [{Min}, {Max}]")]
    public static partial void BoundsChanged(ILogger logger, string schema, decimal min, decimal max);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Rebuild of scoring schema {Schema} repaired {Count} projection rows that differed from the event log")]
    public static partial void Repaired(ILogger logger, string schema, int count);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "A statement shared by {Count} combined applies in schema {Schema} failed on one of its events ({Error}); it rolled back and is sent again in halves, down to single events")]
    public static partial void ReplayingCombined(ILogger logger, string schema, int count, string error);
}
