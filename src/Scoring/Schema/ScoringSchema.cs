using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Resilience.Scoring;

/// <summary>
/// Creates or migrates the package's schema, idempotently and safely under concurrency: everything runs in one transaction
/// under a transaction-scoped advisory lock (<c>pg_advisory_xact_lock</c>), so it also works through PgBouncer in transaction mode.
/// </summary>
internal static class ScoringSchema
{
    /// <summary>The schema version this build of the package writes.</summary>
    public const int CurrentVersion = 1;

    /// <summary>First key of the two-key advisory lock (second key: hash of the schema name). Spells "RSCO".</summary>
    private const int AdvisoryLockClass = 0x5253434F;

    public const string ProjectionRangeConstraint = "score_projection_score_range";
    public const string EventValueRangeConstraint = "score_events_value_range";
    public const string EventResultRangeConstraint = "score_events_result_score_range";
    public const string EventPrimaryKey = "score_events_pkey";

    /// <summary>Brings the schema to <see cref="CurrentVersion"/> and the range constraints to the options' bounds.</summary>
    public static async Task EnsureAsync(NpgsqlConnection connection, ScoringOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var s = options.Schema;
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var transactionScope = transaction.ConfigureAwait(false);

        using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1, hashtext($2))", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<int> { TypedValue = AdvisoryLockClass });
            lockCommand.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, transaction, $"CREATE SCHEMA IF NOT EXISTS {s}", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction,
            $"CREATE TABLE IF NOT EXISTS {s}.scoring_meta (key text PRIMARY KEY, value text NOT NULL)", cancellationToken).ConfigureAwait(false);

        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var read = new NpgsqlCommand($"SELECT key, value FROM {s}.scoring_meta", connection, transaction))
        {
            var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                meta[reader.GetString(0)] = reader.GetString(1);
            }
        }

        var version = meta.TryGetValue("schema_version", out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : 0;
        if (version > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"Scoring schema '{s}' is at version {version}, newer than this package understands ({CurrentVersion}). Upgrade Resilience.Scoring.");
        }

        if (version < 1)
        {
            foreach (var statement in Version1(s))
            {
                await ExecuteAsync(connection, transaction, statement, cancellationToken).ConfigureAwait(false);
            }
        }

        var min = ToDecimal(options.MinScore);
        var max = ToDecimal(options.MaxScore);
        var span = ScoreEventValidator.MaxDelta(options);
        var boundsChanged = !meta.TryGetValue("min_score", out var storedMin) || !meta.TryGetValue("max_score", out var storedMax)
            || decimal.Parse(storedMin, CultureInfo.InvariantCulture) != min || decimal.Parse(storedMax, CultureInfo.InvariantCulture) != max;
        if (boundsChanged)
        {
            try
            {
                foreach (var statement in RangeConstraints(s, min, max, span))
                {
                    await ExecuteAsync(connection, transaction, statement, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CheckViolation)
            {
                // Validating the projection's new range found current scores outside it: the transaction rolls back untouched.
                throw new ScoreRangeConflictException(
                    s,
                    meta.TryGetValue("min_score", out var oldMin) ? decimal.Parse(oldMin, CultureInfo.InvariantCulture) : null,
                    meta.TryGetValue("max_score", out var oldMax) ? decimal.Parse(oldMax, CultureInfo.InvariantCulture) : null,
                    min,
                    max,
                    ex);
            }
        }

        if (version < CurrentVersion || boundsChanged)
        {
            using var write = new NpgsqlCommand(
                $"INSERT INTO {s}.scoring_meta (key, value) SELECT * FROM unnest($1::text[], $2::text[]) " +
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                connection, transaction);
            write.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ["schema_version", "min_score", "max_score"] });
            write.Parameters.Add(new NpgsqlParameter<string[]>
            {
                TypedValue =
                [
                    CurrentVersion.ToString(CultureInfo.InvariantCulture),
                    min.ToString(CultureInfo.InvariantCulture),
                    max.ToString(CultureInfo.InvariantCulture),
                ],
            });
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        if (version < CurrentVersion)
        {
            ScoringLog.Migrated(logger, s, version, CurrentVersion);
        }

        if (boundsChanged)
        {
            ScoringLog.BoundsChanged(logger, s, min, max);
        }
    }

    /// <summary>Converts a validated bound or value to the exact decimal that the CHECK constraints and the parameters use.</summary>
    public static decimal ToDecimal(double value) => ExactScore.ToDecimal(value);

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        await using var commandScope = command.ConfigureAwait(false);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Literal(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static IEnumerable<string> RangeConstraints(string s, decimal min, decimal max, decimal span)
    {
        // The event log keeps its history: a narrower range applies to new events only (NOT VALID), while the projection
        // must satisfy the range now (validated), so a migration that would strand a current score fails loudly instead.
        yield return $"""
            ALTER TABLE {s}.score_events
                DROP CONSTRAINT IF EXISTS {EventValueRangeConstraint},
                DROP CONSTRAINT IF EXISTS {EventResultRangeConstraint},
                ADD CONSTRAINT {EventValueRangeConstraint} CHECK (
                    value <> 'NaN'
                    AND ((kind = 'set' AND value BETWEEN {Literal(min)} AND {Literal(max)})
                      OR (kind = 'add' AND value BETWEEN {Literal(-span)} AND {Literal(span)}))) NOT VALID,
                ADD CONSTRAINT {EventResultRangeConstraint} CHECK (
                    result_score <> 'NaN' AND result_score BETWEEN {Literal(min)} AND {Literal(max)}) NOT VALID
            """;
        yield return $"""
            ALTER TABLE {s}.score_projection
                DROP CONSTRAINT IF EXISTS {ProjectionRangeConstraint},
                ADD CONSTRAINT {ProjectionRangeConstraint} CHECK (
                    score <> 'NaN' AND score BETWEEN {Literal(min)} AND {Literal(max)})
            """;
    }

    private static IEnumerable<string> Version1(string s)
    {
        yield return $"""
            CREATE TABLE IF NOT EXISTS {s}.score_events (
                seq bigint GENERATED ALWAYS AS IDENTITY,
                event_id text NOT NULL,
                user_id text NOT NULL,
                concept text NOT NULL,
                kind text NOT NULL,
                value numeric NOT NULL,
                occurred_at timestamptz NOT NULL,
                recorded_at timestamptz NOT NULL,
                source text NULL,
                expected_version bigint NULL,
                result_score numeric NOT NULL,
                result_version bigint NOT NULL,
                CONSTRAINT {EventPrimaryKey} PRIMARY KEY (event_id),
                CONSTRAINT score_events_ids_not_blank CHECK (btrim(event_id) <> '' AND btrim(user_id) <> '' AND btrim(concept) <> ''),
                CONSTRAINT score_events_kind_known CHECK (kind IN ('add', 'set')),
                CONSTRAINT score_events_expected_version_not_negative CHECK (expected_version >= 0),
                CONSTRAINT score_events_result_version_positive CHECK (result_version >= 1)
            )
            """;
        yield return $"""
            CREATE TABLE IF NOT EXISTS {s}.score_projection (
                user_id text NOT NULL,
                concept text NOT NULL,
                score numeric NOT NULL,
                version bigint NOT NULL,
                updated_at timestamptz NOT NULL,
                CONSTRAINT score_projection_pkey PRIMARY KEY (user_id, concept),
                CONSTRAINT score_projection_version_positive CHECK (version >= 1)
            ) WITH (fillfactor = 80)
            """;

        // The event log is append-only: UPDATE, DELETE and TRUNCATE raise SQLSTATE RS003.
        yield return $"""
            CREATE OR REPLACE FUNCTION {s}.score_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
            BEGIN
                RAISE EXCEPTION USING
                    ERRCODE = 'RS003',
                    MESSAGE = format('%I.%I is append-only: %s is refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP),
                    HINT = 'Correct a score by applying a new event; rebuild the projection from the log if it drifted.';
            END
            $fn$
            """;
        yield return $"""
            CREATE OR REPLACE TRIGGER score_events_append_only BEFORE UPDATE OR DELETE ON {s}.score_events
                FOR EACH ROW EXECUTE FUNCTION {s}.score_events_refuse_change()
            """;
        yield return $"""
            CREATE OR REPLACE TRIGGER score_events_no_truncate BEFORE TRUNCATE ON {s}.score_events
                FOR EACH STATEMENT EXECUTE FUNCTION {s}.score_events_refuse_change()
            """;

        // apply_event applies one event; apply_events applies many in array order. Each call is one statement, so it commits or
        // rolls back as a unit (one round trip, no session state), and it never reads a score into the client.
        yield return $$"""
            CREATE OR REPLACE FUNCTION {{s}}.apply_event(
                v_id text, v_user text, v_concept text, v_kind text, v_value numeric,
                v_occurred_at timestamptz, v_source text, v_expected bigint, p_recorded_at timestamptz,
                OUT o_ord integer, OUT o_status smallint, OUT o_score numeric, OUT o_version bigint)
            LANGUAGE plpgsql AS $fn$
            DECLARE
                {{ApplyDeclarations}}
            BEGIN
                {{ApplyBody(s, "1", checkDuplicateFirst: false, "RETURN;", "RETURN;")}}
            END
            $fn$
            """;
        yield return $$"""
            CREATE OR REPLACE FUNCTION {{s}}.apply_events(
                p_event_ids text[], p_user_ids text[], p_concepts text[], p_kinds text[], p_values numeric[],
                p_occurred_at timestamptz[], p_sources text[], p_expected bigint[], p_recorded_at timestamptz)
            RETURNS TABLE (o_ord integer, o_status smallint, o_score numeric, o_version bigint)
            LANGUAGE plpgsql AS $fn$
            DECLARE
                n integer := cardinality(p_event_ids);
                i integer;
                v_id text; v_user text; v_concept text; v_kind text; v_value numeric;
                v_occurred_at timestamptz; v_source text; v_expected bigint;
                {{ApplyDeclarations}}
            BEGIN
                IF cardinality(p_user_ids) <> n OR cardinality(p_concepts) <> n OR cardinality(p_kinds) <> n
                   OR cardinality(p_values) <> n OR cardinality(p_occurred_at) <> n OR cardinality(p_sources) <> n
                   OR cardinality(p_expected) <> n THEN
                    RAISE EXCEPTION 'apply_events: the argument arrays differ in length' USING ERRCODE = '22023';
                END IF;

                FOR i IN 1 .. n LOOP
                    v_id := p_event_ids[i]; v_user := p_user_ids[i]; v_concept := p_concepts[i]; v_kind := p_kinds[i];
                    v_value := p_values[i]; v_occurred_at := p_occurred_at[i]; v_source := p_sources[i]; v_expected := p_expected[i];
                    {{ApplyBody(s, "i", checkDuplicateFirst: true, "RETURN NEXT; CONTINUE;", "RETURN NEXT;")}}
                END LOOP;
            END
            $fn$
            """;
    }

    private const string ApplyDeclarations = "prior record; new_score numeric; new_version bigint; found_version bigint;";

    /// <summary>
    /// The one definition of applying an event (v_* variables), shared by the single and the batch function.
    /// <paramref name="afterDuplicate"/> and <paramref name="afterApplied"/> hand the o_* result back.
    /// With <paramref name="checkDuplicateFirst"/> the log is searched before anything is written (the batch: a duplicate must not
    /// abort the others). Without it (a single event) the event INSERT itself detects the duplicate and raises RS004, which rolls
    /// the projection change back; the client then reads the first application's result. That saves a statement per apply.
    /// </summary>
    private static string ApplyBody(string s, string ord, bool checkDuplicateFirst, string afterDuplicate, string afterApplied) =>
        (checkDuplicateFirst ? DuplicateCheck(s, ord, afterDuplicate) : string.Empty) + ApplyWrites(s, ord, checkDuplicateFirst, afterApplied);

    private static string DuplicateCheck(string s, string ord, string afterDuplicate) => $$"""
        SELECT e.user_id, e.concept, e.kind, e.value, e.result_score, e.result_version INTO prior
        FROM {{s}}.score_events e WHERE e.event_id = v_id;
        IF FOUND THEN
            IF prior.user_id <> v_user OR prior.concept <> v_concept OR prior.kind <> v_kind OR prior.value <> v_value THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'RS002',
                    MESSAGE = format('score event id %s was already applied with a different payload', v_id),
                    HINT = json_build_object('ord', {{ord}})::text;
            END IF;
            o_ord := {{ord}}; o_status := 1; o_score := prior.result_score; o_version := prior.result_version;
            {{afterDuplicate}}
        END IF;

        """;

    private static string ApplyWrites(string s, string ord, bool checkDuplicateFirst, string afterApplied) => $$"""
        LOOP
            -- Existing score: the increment happens here, on the locked row, never in the client.
            UPDATE {{s}}.score_projection AS p
            SET score = CASE WHEN v_kind = 'set' THEN v_value ELSE p.score + v_value END,
                version = p.version + 1,
                updated_at = p_recorded_at
            WHERE p.user_id = v_user AND p.concept = v_concept
              AND (v_expected IS NULL OR p.version = v_expected)
            RETURNING p.score, p.version INTO new_score, new_version;
            EXIT WHEN FOUND;

            SELECT q.version INTO found_version FROM {{s}}.score_projection q
            WHERE q.user_id = v_user AND q.concept = v_concept;
            IF FOUND AND v_expected IS NULL THEN
                CONTINUE; -- the row was committed after the UPDATE's snapshot: update it now
            END IF;
            IF FOUND OR v_expected <> 0 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'RS001',
                    MESSAGE = format('score event %s expected version %s of (%s, %s) but found %s',
                        v_id, v_expected, v_user, v_concept, found_version),
                    HINT = json_build_object('ord', {{ord}}, 'actual', found_version)::text;
            END IF;

            -- No score yet: insert it; if another transaction inserted it first, go round and update that row.
            INSERT INTO {{s}}.score_projection AS p (user_id, concept, score, version, updated_at)
            VALUES (v_user, v_concept, v_value, 1, p_recorded_at)
            ON CONFLICT (user_id, concept) DO NOTHING
            RETURNING p.score, p.version INTO new_score, new_version;
            EXIT WHEN FOUND;
        END LOOP;

        INSERT INTO {{s}}.score_events (event_id, user_id, concept, kind, value, occurred_at, recorded_at, source,
            expected_version, result_score, result_version)
        VALUES (v_id, v_user, v_concept, v_kind, v_value, v_occurred_at, p_recorded_at, v_source, v_expected, new_score, new_version)
        {{(checkDuplicateFirst ? ";" : $"""
        ON CONFLICT (event_id) DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'RS004',
                MESSAGE = format('score event id %s was already applied', v_id),
                HINT = json_build_object('ord', {ord})::text;
        END IF;
        """)}}

        o_ord := {{ord}}; o_status := 0; o_score := new_score; o_version := new_version;
        {{afterApplied}}
        """;
}
