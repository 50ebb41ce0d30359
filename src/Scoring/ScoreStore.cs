using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Resilience.Scoring;

/// <summary>
/// Strict, event-sourced score updates on PostgreSQL. Works on any <see cref="DbDataSource"/> that hands out
/// <see cref="NpgsqlConnection"/>s (an <see cref="NpgsqlDataSource"/>, or a pool built on one) and through PgBouncer in
/// transaction mode: every unit of work is one statement or one transaction, with no session state and no SQL PREPARE.
/// Thread-safe; create one per schema and share it.
/// </summary>
public sealed class ScoreStore : IScoreStore, IDisposable
{
    private const int MaxAttempts = 3;
    private const short StatusDuplicate = 1;
    private const string ConflictState = "RS001";
    private const string DuplicateState = "RS004";
    private const string CombinedOperation = "apply_combined";

    private readonly DbDataSource _dataSource;
    private readonly ScoringOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ScoringMetrics _metrics;
    private readonly ScoringQueries _queries;
    private readonly Lock _schemaGate = new();
    private readonly ApplyCombiner? _combiner;
    private Task? _schemaReady;

    /// <summary>Creates a store.</summary>
    /// <param name="dataSource">Where connections come from; its connections must be <see cref="NpgsqlConnection"/>s.</param>
    /// <param name="options">Settings, validated here (one exception listing every problem); <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock for recorded-at times; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">Where to log; nothing when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the <c>Resilience.Scoring</c> meter; a standalone meter when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options break a rule.</exception>
    public ScoreStore(
        DbDataSource dataSource,
        ScoringOptions? options = null,
        TimeProvider? timeProvider = null,
        ILogger<ScoreStore>? logger = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new ScoringOptions();
        ScoringOptionsValidator.ThrowIfInvalid(options);
        _dataSource = dataSource;
        _options = Copy(options);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _metrics = new ScoringMetrics(meterFactory, _options.Schema);
        _queries = new ScoringQueries(_options.Schema);
        if (_options.CombineApplies)
        {
            _combiner = new ApplyCombiner(
                events => ExecuteAsync(events, CombinedOperation, CancellationToken.None),
                async e => (await ExecuteAsync([e], "apply", CancellationToken.None).ConfigureAwait(false))[0],
                _metrics.EventsPerStatement,
                FailedOnAnEvent,
                (count, ex) => ScoringLog.ReplayingCombined(_logger, _options.Schema, count, ex.GetType().Name),
                _options.MaxBatchSize,
                _options.MaxConcurrentApplyBatches);
        }
    }

    /// <summary>Applies waiting for a free statement slot (for tests).</summary>
    internal int QueuedApplies => _combiner?.Queued ?? 0;

    /// <summary>Apply statement slots taken (for tests).</summary>
    internal int InFlightApplyBatches => _combiner?.InFlight ?? 0;

    /// <summary>Round trips that carried more than one caller's apply (for tests).</summary>
    internal long SharedApplyBatches => _combiner?.SharedBatches ?? 0;

    /// <summary>The schema this store writes to.</summary>
    public string Schema => _options.Schema;

    /// <inheritdoc />
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        await ScoringSchema.EnsureAsync(connection, _options, _logger, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ScoreResult> ApplyAsync(ScoreEvent scoreEvent, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(ScoreEventValidator.Check(scoreEvent, _options));
        if (_combiner is null)
        {
            var results = await ExecuteAsync([scoreEvent], "apply", cancellationToken).ConfigureAwait(false);
            return results[0];
        }

        cancellationToken.ThrowIfCancellationRequested();
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        return await _combiner.ApplyAsync(scoreEvent, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ScoreResult>> ApplyBatchAsync(IReadOnlyList<ScoreEvent> events, CancellationToken cancellationToken = default)
    {
        if (events is null)
        {
            ThrowIfInvalid(new ScoreValidationException("events", ScoreRejectionReason.Null, "The batch of score events is null."));
        }

        if (events!.Count > _options.MaxBatchSize)
        {
            ThrowIfInvalid(new ScoreValidationException("events", ScoreRejectionReason.TooLong,
                $"The batch has {events.Count} score events; the limit is ScoringOptions.MaxBatchSize = {_options.MaxBatchSize}. Split it."));
        }

        for (var i = 0; i < events.Count; i++)
        {
            ThrowIfInvalid(ScoreEventValidator.Check(events[i], _options, i));
        }

        if (events.Count == 0)
        {
            return [];
        }

        return await ExecuteAsync(events, "apply_batch", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ScoreProjection?> GetAsync(string userId, string concept, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalidText("userId", userId, "of GetAsync");
        ThrowIfInvalidText("concept", concept, "of GetAsync");
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = new NpgsqlCommand(_queries.Get, connection);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = concept });
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new ScoreProjection(userId, concept, (double)reader.GetDecimal(0), reader.GetInt64(1),
            new DateTimeOffset(reader.GetFieldValue<DateTime>(2), TimeSpan.Zero));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ScoreMismatch>> VerifyAsync(ScoreScope? scope = null, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(scope);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        return await ReadMismatchesAsync(connection, null, scope, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ScoreMismatch>> RebuildAsync(ScoreScope? scope = null, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(scope);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var transactionScope = transaction.ConfigureAwait(false);

        // Applies take ROW EXCLUSIVE on the projection; this lock waits for the ones in flight and holds new ones off,
        // so the fold below sees every committed event and nothing commits between the fold and the write.
        using (var lockCommand = new NpgsqlCommand(_queries.LockProjection, connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var mismatches = await ReadMismatchesAsync(connection, transaction, scope, cancellationToken).ConfigureAwait(false);
        if (mismatches.Count > 0)
        {
            foreach (var sql in new[] { _queries.RebuildUpsert, _queries.RebuildDeleteOrphans })
            {
                var command = new NpgsqlCommand(sql, connection, transaction);
                await using var commandScope = command.ConfigureAwait(false);
                AddScope(command, scope);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (mismatches.Count > 0)
        {
            ScoringLog.Repaired(_logger, _options.Schema, mismatches.Count);
        }

        return mismatches;
    }

    /// <summary>Disposes the meter when the store created its own.</summary>
    public void Dispose() => _metrics.Dispose();

    private static ScoringOptions Copy(ScoringOptions options) => new()
    {
        Schema = options.Schema,
        MinScore = options.MinScore,
        MaxScore = options.MaxScore,
        MaxIdLength = options.MaxIdLength,
        MaxBatchSize = options.MaxBatchSize,
        CreateSchemaOnFirstUse = options.CreateSchemaOnFirstUse,
        CombineApplies = options.CombineApplies,
        MaxConcurrentApplyBatches = options.MaxConcurrentApplyBatches,
    };

    private static void AddScope(NpgsqlCommand command, ScoreScope? scope)
    {
        command.Parameters.Add(TextArray(scope?.UserIds));
        command.Parameters.Add(TextArray(scope?.Concepts));
    }

    private static NpgsqlParameter TextArray(IReadOnlyCollection<string>? values) => new()
    {
        NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
        Value = values is null ? DBNull.Value : values.ToArray(),
    };

    private async Task<List<ScoreMismatch>> ReadMismatchesAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, ScoreScope? scope, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(_queries.Verify, connection, transaction);
        await using var commandScope = command.ConfigureAwait(false);
        AddScope(command, scope);
        var list = new List<ScoreMismatch>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new ScoreMismatch(
                reader.GetString(0),
                reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetDecimal(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetDecimal(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5)));
        }

        return list;
    }

    private void ThrowIfInvalid(ScoreValidationException? problem)
    {
        if (problem is null)
        {
            return;
        }

        _metrics.Rejected(problem.Reason, problem.Field);
        ScoringLog.Rejected(_logger, problem.Field, problem.Reason, problem.Message);
        throw problem;
    }

    private void ThrowIfInvalidText(string field, string? value, string owner)
    {
        if (value is null)
        {
            ThrowIfInvalid(new ScoreValidationException(field, ScoreRejectionReason.Null, $"{field} {owner} is null."));
        }

        ThrowIfInvalid(ScoreEventValidator.CheckText(field, value!, owner));
    }

    private void ThrowIfInvalid(ScoreScope? scope)
    {
        foreach (var (name, values) in new[] { (nameof(ScoreScope.UserIds), scope?.UserIds), (nameof(ScoreScope.Concepts), scope?.Concepts) })
        {
            if (values is null)
            {
                continue;
            }

            var i = 0;
            foreach (var value in values)
            {
                ThrowIfInvalidText($"{nameof(ScoreScope)}.{name}[{i}]", value, "of the scope");
                i++;
            }
        }
    }

    private Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        if (!_options.CreateSchemaOnFirstUse)
        {
            return Task.CompletedTask;
        }

        var ready = _schemaReady;
        if (ready is { IsCompletedSuccessfully: true })
        {
            return Task.CompletedTask;
        }

        lock (_schemaGate)
        {
            if (_schemaReady is null || _schemaReady.IsFaulted || _schemaReady.IsCanceled)
            {
                _schemaReady = EnsureSchemaAsync(CancellationToken.None);
            }

            ready = _schemaReady;
        }

        return ready.WaitAsync(cancellationToken);
    }

    private async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (connection is NpgsqlConnection npgsql)
        {
            return npgsql;
        }

        var handedOut = connection.GetType().FullName;
        await connection.DisposeAsync().ConfigureAwait(false);
        throw new NotSupportedException(
            $"Resilience.Scoring needs connections of type {typeof(NpgsqlConnection).FullName}, but the data source " +
            $"'{_dataSource.GetType().FullName}' handed out '{handedOut}'. Pass an NpgsqlDataSource or a pool that wraps one.");
    }

    private async Task<ScoreResult[]> ExecuteAsync(IReadOnlyList<ScoreEvent> events, string operation, CancellationToken cancellationToken)
    {
        var count = events.Count;

        // Same-key events keep their relative order (stable sort); different keys are always locked in one global order,
        // so two batches never wait on each other in a cycle.
        var order = new int[count];
        for (var i = 0; i < count; i++)
        {
            order[i] = i;
        }

        if (count > 1)
        {
            order = [.. order.OrderBy(i => events[i].UserId, StringComparer.Ordinal).ThenBy(i => events[i].Concept, StringComparer.Ordinal)];
        }

        var recordedAt = _timeProvider.GetUtcNow().UtcDateTime;
        var ids = new string[count];
        var users = new string[count];
        var concepts = new string[count];
        var kinds = new string[count];
        var values = new decimal[count];
        var occurred = new DateTime[count];
        var sources = new string?[count];
        var expected = new long?[count];
        for (var k = 0; k < count; k++)
        {
            var e = events[order[k]];
            ids[k] = e.EventId;
            users[k] = e.UserId;
            concepts[k] = e.Concept;
            kinds[k] = e.Kind == ScoreChangeKind.Set ? "set" : "add";
            values[k] = ScoringSchema.ToDecimal(e.Value!.Value);
            occurred[k] = e.OccurredAt is { } at ? at.UtcDateTime : recordedAt;
            sources[k] = e.Source;
            expected[k] = e.ExpectedVersion;
        }

        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);

        var started = Stopwatch.GetTimestamp();
        string? errorType = null;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var results = await RunApplyAsync(events, order, ids, users, concepts, kinds, values, occurred, sources, expected, recordedAt, cancellationToken)
                        .ConfigureAwait(false);
                    return results;
                }
                catch (PostgresException ex) when (attempt < MaxAttempts && IsRetryable(ex))
                {
                    // The same event id was being applied concurrently (or the server broke a deadlock): the whole statement
                    // rolled back, so running it again is safe and now finds the first application.
                    ScoringLog.Retrying(_logger, _options.Schema, attempt + 1);
                }
                catch (PostgresException ex) when (count == 1 && MayBeDuplicate(ex))
                {
                    // A single apply does not search the log first: its event INSERT finds the duplicate (RS004) and the whole
                    // statement rolls back. A retried event may also meet its own later effects first (a version or range
                    // check), so in all three cases the log decides: the first application's result, if there is one.
                    var prior = await FindAppliedAsync(events[0], cancellationToken).ConfigureAwait(false);
                    if (prior is not null)
                    {
                        _metrics.Duplicates(1);
                        return [prior];
                    }

                    if (ex.SqlState != DuplicateState || attempt >= MaxAttempts)
                    {
                        throw;
                    }
                }
            }
        }
        catch (PostgresException ex)
        {
            errorType = ex.SqlState;
            var translated = Translate(ex, events, order, finalOutcome: operation != CombinedOperation);
            if (translated is not null)
            {
                throw translated;
            }

            throw;
        }
        catch (Exception ex)
        {
            errorType = ex is OperationCanceledException ? "cancelled" : ex.GetType().FullName;
            throw;
        }
        finally
        {
            _metrics.Duration(operation, started, Stopwatch.GetTimestamp(), errorType);
        }
    }

    private async Task<ScoreResult[]> RunApplyAsync(
        IReadOnlyList<ScoreEvent> events, int[] order, string[] ids, string[] users, string[] concepts, string[] kinds, decimal[] values,
        DateTime[] occurred, string?[] sources, long?[] expected, DateTime recordedAt, CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = ids.Length == 1 ? OneEventCommand(connection, ids, users, concepts, kinds, values, occurred, sources, expected)
            : ManyEventsCommand(connection, ids, users, concepts, kinds, values, occurred, sources, expected);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = recordedAt, NpgsqlDbType = NpgsqlDbType.TimestampTz });

        var results = new ScoreResult[events.Count];
        int applied = 0, duplicates = 0;
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var index = order[reader.GetInt32(0) - 1];
                var duplicate = reader.GetInt16(1) == StatusDuplicate;
                var e = events[index];
                results[index] = new ScoreResult(e.EventId, e.UserId, e.Concept, (double)reader.GetDecimal(2), reader.GetInt64(3), duplicate);
                if (duplicate)
                {
                    duplicates++;
                }
                else
                {
                    applied++;
                }
            }
        }

        _metrics.Applied(applied);
        _metrics.Duplicates(duplicates);
        return results;
    }

    private NpgsqlCommand OneEventCommand(
        NpgsqlConnection connection, string[] ids, string[] users, string[] concepts, string[] kinds, decimal[] values,
        DateTime[] occurred, string?[] sources, long?[] expected)
    {
        var command = new NpgsqlCommand(_queries.ApplyOne, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ids[0], NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = users[0], NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = concepts[0], NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kinds[0], NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<decimal> { TypedValue = values[0], NpgsqlDbType = NpgsqlDbType.Numeric });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = occurred[0], NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = sources[0] is { } source ? source : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = expected[0] is { } version ? version : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        return command;
    }

    private NpgsqlCommand ManyEventsCommand(
        NpgsqlConnection connection, string[] ids, string[] users, string[] concepts, string[] kinds, decimal[] values,
        DateTime[] occurred, string?[] sources, long?[] expected)
    {
        var command = new NpgsqlCommand(_queries.ApplyMany, connection);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = users, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = concepts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = kinds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<decimal[]> { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Numeric });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = occurred, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = sources, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = expected, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        return command;
    }

    /// <summary>
    /// Whether a shared statement failed because of one of its events, so that applying its events in smaller parts gives
    /// every caller its own outcome: a version conflict, a reused id, a bound; the database refusing one event's data
    /// (SQLSTATE classes 22 data exception, 23 integrity constraint, 54 program limit, for example an id too large to index);
    /// or a race with a concurrent apply of the same id, a deadlock or a serialization failure (class 40) that outlived the
    /// retries. Anything else (the connection, the server, an operator, a timeout, the data source) is nobody's event.
    /// </summary>
    internal static bool FailedOnAnEvent(Exception ex) =>
        ex is ScoreVersionConflictException or EventIdReusedException or ScoreBoundsExceededException
        || (ex is PostgresException { SqlState: [var a, var b, ..] } && (a, b) is ('2', '2') or ('2', '3') or ('5', '4') or ('4', '0'));

    private static bool MayBeDuplicate(PostgresException ex) =>
        ex.SqlState is DuplicateState or ConflictState
        || (ex.SqlState == PostgresErrorCodes.CheckViolation && ex.ConstraintName is ScoringSchema.ProjectionRangeConstraint);

    private async Task<ScoreResult?> FindAppliedAsync(ScoreEvent scoreEvent, CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = new NpgsqlCommand(_queries.FindEvent, connection);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scoreEvent.EventId });
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var samePayload = reader.GetString(0) == scoreEvent.UserId
            && reader.GetString(1) == scoreEvent.Concept
            && reader.GetString(2) == (scoreEvent.Kind == ScoreChangeKind.Set ? "set" : "add")
            && reader.GetDecimal(3) == ScoringSchema.ToDecimal(scoreEvent.Value!.Value);
        if (!samePayload)
        {
            throw new EventIdReusedException(scoreEvent.EventId);
        }

        return new ScoreResult(scoreEvent.EventId, scoreEvent.UserId, scoreEvent.Concept, (double)reader.GetDecimal(4), reader.GetInt64(5), IsDuplicate: true);
    }

    private static bool IsRetryable(PostgresException ex) =>
        (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == ScoringSchema.EventPrimaryKey)
        || ex.SqlState == PostgresErrorCodes.DeadlockDetected
        || ex.SqlState == PostgresErrorCodes.SerializationFailure;

    private ScoringException? Translate(PostgresException ex, IReadOnlyList<ScoreEvent> events, int[] order, bool finalOutcome)
    {
        // finalOutcome is false for a statement shared by combined applies: its events are sent again (in halves), and a
        // conflict is counted and logged there, once, for the caller that gets it.
        // The function's own errors carry a small JSON object in HINT (Npgsql redacts DETAIL by default):
        // "ord" is the 1-based position in the sorted arrays, "actual" the version found. No user data travels in it.
        switch (ex.SqlState)
        {
            case ConflictState:
            {
                using var hint = JsonDocument.Parse(ex.Hint ?? "{}");
                var e = events[order[hint.RootElement.GetProperty("ord").GetInt32() - 1]];
                var actual = hint.RootElement.TryGetProperty("actual", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetInt64() : 0;
                var expectedVersion = e.ExpectedVersion ?? 0;
                if (finalOutcome)
                {
                    _metrics.Conflict();
                    ScoringLog.Conflict(_logger, e.EventId, expectedVersion, actual);
                }

                return new ScoreVersionConflictException(e.EventId, e.UserId, e.Concept, expectedVersion, actual, ex);
            }

            case "RS002":
            {
                using var hint = JsonDocument.Parse(ex.Hint ?? "{}");
                var e = events[order[hint.RootElement.GetProperty("ord").GetInt32() - 1]];
                return new EventIdReusedException(e.EventId, ex);
            }

            case PostgresErrorCodes.CheckViolation
                when ex.ConstraintName is ScoringSchema.ProjectionRangeConstraint or ScoringSchema.EventResultRangeConstraint or ScoringSchema.EventValueRangeConstraint:
            {
                var single = events.Count == 1 ? events[0] : null;
                var which = single is null
                    ? "An event in the batch"
                    : $"Score event '{single.EventId}' ({single.Kind} {single.Value} for ({single.UserId}, {single.Concept}))";
                return new ScoreBoundsExceededException(
                    $"{which} would move a score outside [ScoringOptions.MinScore = {_options.MinScore}, ScoringOptions.MaxScore = {_options.MaxScore}]; " +
                    "the database refused it and nothing was written.",
                    single?.EventId, ex);
            }

            default:
                return null;
        }
    }
}
