namespace Resilience.Scoring;

/// <summary>
/// Strict, event-sourced score updates: every change is validated, appended to an immutable log and folded into the
/// projection atomically on the server. See <see cref="ScoreStore"/>.
/// </summary>
public interface IScoreStore
{
    /// <summary>Creates or migrates the schema (idempotent, safe to call concurrently from many processes).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the schema is ready.</returns>
    Task EnsureSchemaAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Validates the event, then appends it and updates the projection in one statement (one round trip), which concurrent
    /// calls may share (<see cref="ScoringOptions.CombineApplies"/>); the event and its projection change still commit together.
    /// A repeated event id writes nothing and returns the first application's result. Cancellation while the event waits for a
    /// statement drops it; once sent, the statement runs to its end and the event may be applied (retrying with the same id is safe).
    /// </summary>
    /// <param name="scoreEvent">The change.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The score and version right after the event.</returns>
    /// <exception cref="ScoreValidationException">The event broke a rule; nothing was sent to the database.</exception>
    /// <exception cref="ScoreVersionConflictException">The event's expected version did not match; nothing was written.</exception>
    /// <exception cref="ScoreBoundsExceededException">The result would leave the configured range; nothing was written.</exception>
    /// <exception cref="EventIdReusedException">The id was already applied with another payload; nothing was written.</exception>
    /// <exception cref="Npgsql.NpgsqlException">
    /// The connection or the server failed (also when it failed a statement this call shared with others); the event was
    /// applied completely or not at all, and retrying with the same id is safe.
    /// </exception>
    Task<ScoreResult> ApplyAsync(ScoreEvent scoreEvent, CancellationToken cancellationToken = default);

    /// <summary>
    /// Validates every event, then applies them all in one statement (one round trip), all or nothing, in list order per user
    /// and concept. Duplicates (of the log or of an earlier event in the batch) write nothing and return the first result.
    /// </summary>
    /// <param name="events">The changes; at most <see cref="ScoringOptions.MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per event, in the order given.</returns>
    /// <exception cref="ScoreValidationException">An event broke a rule (see <see cref="ScoreValidationException.BatchIndex"/>); nothing was written.</exception>
    /// <exception cref="ScoreVersionConflictException">An event's expected version did not match; nothing from the batch was written.</exception>
    /// <exception cref="ScoreBoundsExceededException">A result would leave the configured range; nothing from the batch was written.</exception>
    /// <exception cref="EventIdReusedException">An id was already applied with another payload; nothing from the batch was written.</exception>
    Task<IReadOnlyList<ScoreResult>> ApplyBatchAsync(IReadOnlyList<ScoreEvent> events, CancellationToken cancellationToken = default);

    /// <summary>Reads one projection row.</summary>
    /// <param name="userId">Whose score.</param>
    /// <param name="concept">Which score.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The row, or <see langword="null"/> when no event has been applied for it.</returns>
    /// <exception cref="ScoreValidationException">An id is null or is text PostgreSQL cannot store (a NUL character, a lone surrogate); no SQL ran.</exception>
    Task<ScoreProjection?> GetAsync(string userId, string concept, CancellationToken cancellationToken = default);

    /// <summary>Lists every projection row in <paramref name="scope"/> that differs from the fold of the event log. Empty when clean.</summary>
    /// <param name="scope">Which users and concepts; <see langword="null"/> for everything.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The mismatches, ordered by user and concept.</returns>
    /// <exception cref="ScoreValidationException">A scope value is null or is text PostgreSQL cannot store; no SQL ran.</exception>
    Task<IReadOnlyList<ScoreMismatch>> VerifyAsync(ScoreScope? scope = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Recomputes the projection in <paramref name="scope"/> from the event log in one transaction (applies wait meanwhile),
    /// and returns the rows it repaired (what <see cref="VerifyAsync"/> would have listed).
    /// </summary>
    /// <param name="scope">Which users and concepts; <see langword="null"/> for everything.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The repaired rows, with the values before and after; empty when the projection already matched.</returns>
    /// <exception cref="ScoreValidationException">A scope value is null or is text PostgreSQL cannot store; no SQL ran.</exception>
    Task<IReadOnlyList<ScoreMismatch>> RebuildAsync(ScoreScope? scope = null, CancellationToken cancellationToken = default);
}
