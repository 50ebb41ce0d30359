namespace Resilience.Scoring;

/// <summary>The SQL the store sends, built once per schema. Every statement stands alone (no PREPARE, no session state).</summary>
internal sealed class ScoringQueries
{
    public ScoringQueries(string s)
    {
        ApplyOne = $"SELECT o_ord, o_status, o_score, o_version FROM {s}.apply_event($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        ApplyMany = $"SELECT o_ord, o_status, o_score, o_version FROM {s}.apply_events($1, $2, $3, $4, $5, $6, $7, $8, $9)";

        FindEvent = $"SELECT user_id, concept, kind, value, result_score, result_version FROM {s}.score_events WHERE event_id = $1";

        Get = $"SELECT score, version, updated_at FROM {s}.score_projection WHERE user_id = $1 AND concept = $2";

        // $1: user ids or NULL for all; $2: concepts or NULL for all.
        const string EventScope = "($1::text[] IS NULL OR e.user_id = ANY($1::text[])) AND ($2::text[] IS NULL OR e.concept = ANY($2::text[]))";
        const string ProjectionScope = "($1::text[] IS NULL OR p.user_id = ANY($1::text[])) AND ($2::text[] IS NULL OR p.concept = ANY($2::text[]))";

        // The fold of the log, in apply order (seq is drawn while the projection row is locked, so it orders each key's events):
        // the last Set (or 0 when there is none) plus every Add after it; the version is the number of events.
        var fold = $"""
            ev AS (
                SELECT e.user_id, e.concept, e.seq, e.kind, e.value, e.recorded_at
                FROM {s}.score_events e
                WHERE {EventScope}
            ),
            last_set AS (
                SELECT DISTINCT ON (user_id, concept) user_id, concept, seq, value
                FROM ev WHERE kind = 'set'
                ORDER BY user_id, concept, seq DESC
            ),
            fold AS (
                SELECT ev.user_id, ev.concept,
                       CASE WHEN ls.seq IS NULL THEN 0 ELSE ls.value END
                         + sum(CASE WHEN ev.kind = 'add' AND (ls.seq IS NULL OR ev.seq > ls.seq) THEN ev.value ELSE 0 END) AS score,
                       count(*) AS version,
                       max(ev.recorded_at) AS updated_at
                FROM ev LEFT JOIN last_set ls ON ls.user_id = ev.user_id AND ls.concept = ev.concept
                GROUP BY ev.user_id, ev.concept, ls.seq, ls.value
            )
            """;

        Verify = $"""
            WITH {fold},
            proj AS (
                SELECT p.user_id, p.concept, p.score, p.version FROM {s}.score_projection p WHERE {ProjectionScope}
            )
            SELECT user_id, concept, proj.score, proj.version, fold.score, fold.version
            FROM proj FULL JOIN fold USING (user_id, concept)
            WHERE proj.score IS DISTINCT FROM fold.score OR proj.version IS DISTINCT FROM fold.version
            ORDER BY user_id, concept
            """;

        LockProjection = $"LOCK TABLE {s}.score_projection IN SHARE ROW EXCLUSIVE MODE";

        RebuildUpsert = $"""
            WITH {fold}
            INSERT INTO {s}.score_projection AS p (user_id, concept, score, version, updated_at)
            SELECT user_id, concept, score, version, updated_at FROM fold
            ON CONFLICT (user_id, concept) DO UPDATE
                SET score = excluded.score, version = excluded.version, updated_at = excluded.updated_at
                WHERE p.score IS DISTINCT FROM excluded.score OR p.version IS DISTINCT FROM excluded.version
            """;

        RebuildDeleteOrphans = $"""
            DELETE FROM {s}.score_projection p
            WHERE {ProjectionScope}
              AND NOT EXISTS (SELECT 1 FROM {s}.score_events e WHERE e.user_id = p.user_id AND e.concept = p.concept)
            """;
    }

    public string ApplyOne { get; }

    public string ApplyMany { get; }

    public string FindEvent { get; }

    public string Get { get; }

    public string Verify { get; }

    public string LockProjection { get; }

    public string RebuildUpsert { get; }

    public string RebuildDeleteOrphans { get; }
}
