namespace Resilience.Drill.Measurement;

/// <summary>Names of the run counters the report and the invariants read.</summary>
internal static class Counters
{
    public const string NullScoresInjected = "null_scores_injected";
    public const string ForceReleases = "force_releases";
    public const string UploadKeys = "upload_keys";
    public const string ClassBursts = "class_bursts";
    public const string ScoresApplied = "scores_applied";
    public const string Orphans = "abandoned_requests";
    public const string LocksOutlivingSession = "locks_outliving_their_session";
    public const string NeighboursUnavailable = "graded_without_neighbours";
    public const string ConnectionsRefused = "connections_refused_or_timed_out";
}
