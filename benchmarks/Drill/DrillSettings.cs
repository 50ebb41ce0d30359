using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Resilience.Drill;

/// <summary>
/// Command-line options. Times are wall-clock seconds of the drill; the defaults replay the incident at a time scale
/// of 1:10 (an AI call of 12 s in production is 1.2 s here; the 15 s lock alert is 1.5 s), so that a full spike of
/// 2,400 writers fits in a few minutes on a small machine.
/// </summary>
internal sealed class DrillSettings : CommandSettings
{
    [CommandOption("-w|--writers <COUNT>")]
    [Description("Concurrent writers (the spike). 2,400 is 4x the incident's normal peak of 600.")]
    [DefaultValue(2400)]
    public int Writers { get; init; }

    [CommandOption("-d|--duration <SECONDS>")]
    [Description("How long each mode runs, in seconds (after which writers finish their current submission).")]
    [DefaultValue(60.0)]
    public double DurationSeconds { get; init; }

    [CommandOption("--ramp <SECONDS>")]
    [Description("Writers join evenly over this many seconds.")]
    [DefaultValue(10.0)]
    public double RampSeconds { get; init; }

    [CommandOption("--mode <MODE>")]
    [Description("both | resilient | naive. 'both' runs the resilient stack, then the incident's naive stack.")]
    [DefaultValue("both")]
    public string Mode { get; init; } = "both";

    [CommandOption("--think <MIN-MAX>")]
    [Description("Seconds a writer spends between submissions, uniform in MIN-MAX.")]
    [DefaultValue("2-6")]
    public string ThinkTime { get; init; } = "2-6";

    [CommandOption("--ai-median <SECONDS>")]
    [Description("Median simulated AI call (log-normal body).")]
    [DefaultValue(1.0)]
    public double AiMedianSeconds { get; init; }

    [CommandOption("--ai-sigma <SIGMA>")]
    [Description("Log-normal sigma of the AI call body.")]
    [DefaultValue(0.35)]
    public double AiSigma { get; init; }

    [CommandOption("--ai-slow <RATE>")]
    [Description("Share of AI calls in the slow tail (the incident's 18-25 s calls under load).")]
    [DefaultValue(0.08)]
    public double AiSlowRate { get; init; }

    [CommandOption("--ai-slow-range <MIN-MAX>")]
    [Description("Seconds a slow-tail AI call takes, uniform in MIN-MAX.")]
    [DefaultValue("1.8-2.5")]
    public string AiSlowRange { get; init; } = "1.8-2.5";

    [CommandOption("--fault-ai <RATE>")]
    [Description("Share of AI calls that throw.")]
    [DefaultValue(0.04)]
    public double AiErrorRate { get; init; }

    [CommandOption("--fault-force-quit <RATE>")]
    [Description("Share of submissions whose user force-quits during the AI call and retries at once.")]
    [DefaultValue(0.02)]
    public double ForceQuitRate { get; init; }

    [CommandOption("--fault-null-score <RATE>")]
    [Description("Share of score computations that return null.")]
    [DefaultValue(0.02)]
    public double NullScoreRate { get; init; }

    [CommandOption("--image-rate <RATE>")]
    [Description("Share of submissions with page images (1-4 pages uploaded at once).")]
    [DefaultValue(0.4)]
    public double ImageRate { get; init; }

    [CommandOption("--class-burst <SECONDS>")]
    [Description("Every this many seconds a whole class (30 students) uploads in the same millisecond. 0 turns it off.")]
    [DefaultValue(5.0)]
    public double ClassBurstSeconds { get; init; }

    [CommandOption("--boxes <COUNT>")]
    [Description("Boxes in the simulated fleet.")]
    [DefaultValue(4)]
    public int Boxes { get; init; }

    [CommandOption("--workers-per-box <COUNT>")]
    [Description("Worker processes per box; each has its own connection pool.")]
    [DefaultValue(6)]
    public int WorkersPerBox { get; init; }

    [CommandOption("--pool-size <COUNT>")]
    [Description("Resilient pool MaxSize per worker.")]
    [DefaultValue(8)]
    public int PoolSize { get; init; }

    [CommandOption("--naive-pool-size <COUNT>")]
    [Description("The incident's uncapped per-worker pool size (Npgsql Max Pool Size, direct to PostgreSQL).")]
    [DefaultValue(50)]
    public int NaivePoolSize { get; init; }

    [CommandOption("--pgbouncer-max-client-conn <COUNT>")]
    [Description("PgBouncer's max_client_conn, declared to the fleet budget check (PgBouncer's limits cannot be read through Npgsql). eng/services.sh sets 5,000.")]
    [DefaultValue(5000)]
    public int PgBouncerMaxClientConnections { get; init; }

    [CommandOption("--pgbouncer-server-conns <COUNT>")]
    [Description("How many server connections PgBouncer may open (max_db_connections), declared to the fleet budget check. eng/services.sh sets 40.")]
    [DefaultValue(40)]
    public int PgBouncerServerConnections { get; init; }

    [CommandOption("--cache-cap <COUNT>")]
    [Description("Resilient prompt cache entry cap.")]
    [DefaultValue(200)]
    public int CacheCap { get; init; }

    [CommandOption("--prompt-kb <KB>")]
    [Description("Size of one user's prompt context (system prompt + request + streamed chunks), in KB.")]
    [DefaultValue(64)]
    public int PromptKilobytes { get; init; }

    [CommandOption("--lock-alert <SECONDS>")]
    [Description("Lock hold-time p95 alert threshold (the incident's 15 s at 1:10).")]
    [DefaultValue(1.5)]
    public double LockAlertSeconds { get; init; }

    [CommandOption("--memory-alert-mb <MB>")]
    [Description("Process memory growth alert threshold over the memory window.")]
    [DefaultValue(256)]
    public int MemoryAlertMegabytes { get; init; }

    [CommandOption("--memory-window <SECONDS>")]
    [Description("Window over which memory growth is measured (the incident's 5 minutes at 1:10).")]
    [DefaultValue(30.0)]
    public double MemoryWindowSeconds { get; init; }

    [CommandOption("--saturation <RATIO>")]
    [Description("Mean server connection utilisation (connections / max_connections) over the window that raises the saturation alert.")]
    [DefaultValue(0.7)]
    public double SaturationThreshold { get; init; }

    [CommandOption("--saturation-window <SECONDS>")]
    [Description("The window the saturation alert averages over (the incident's 60 s at 1:10).")]
    [DefaultValue(6.0)]
    public double SaturationWindowSeconds { get; init; }

    [CommandOption("--seed <SEED>")]
    [Description("Random seed for the writers' dice.")]
    [DefaultValue(20261203)]
    public int Seed { get; init; }

    [CommandOption("-o|--output <FOLDER>")]
    [Description("Where drill-summary.txt, drill-report.json and drill-report.html are written.")]
    [DefaultValue("drill-report")]
    public string Output { get; init; } = "drill-report";

    [CommandOption("--pg <CONNECTION-STRING>")]
    [Description("Direct PostgreSQL (with pgvector). Default: RESILIENCE_PG, else the local services are started.")]
    public string? Postgres { get; init; }

    [CommandOption("--pgbouncer <CONNECTION-STRING>")]
    [Description("PgBouncer in transaction mode in front of it. Default: RESILIENCE_PGBOUNCER.")]
    public string? PgBouncer { get; init; }

    [CommandOption("--redis <CONFIGURATION>")]
    [Description("Redis. Default: RESILIENCE_REDIS.")]
    public string? Redis { get; init; }

    public (double Min, double Max) ThinkRange => ParseRange(ThinkTime);

    public (double Min, double Max) AiSlowSeconds => ParseRange(AiSlowRange);

    public int FleetWorkers => Boxes * WorkersPerBox;

    public bool RunsResilient => Mode is "both" or "resilient";

    public bool RunsNaive => Mode is "both" or "naive";

    public override ValidationResult Validate()
    {
        var problems = new List<string>();
        if (Writers <= 0) { problems.Add("--writers must be positive"); }
        if (DurationSeconds <= 0) { problems.Add("--duration must be positive"); }
        if (RampSeconds < 0) { problems.Add("--ramp must not be negative"); }
        if (Mode is not ("both" or "resilient" or "naive")) { problems.Add("--mode must be both, resilient or naive"); }
        foreach (var (name, rate) in new[]
        {
            ("--ai-slow", AiSlowRate), ("--fault-ai", AiErrorRate), ("--fault-force-quit", ForceQuitRate),
            ("--fault-null-score", NullScoreRate), ("--image-rate", ImageRate),
        })
        {
            if (rate is < 0 or > 1 || double.IsNaN(rate)) { problems.Add($"{name} must be a rate between 0 and 1"); }
        }

        if (AiMedianSeconds <= 0 || AiSigma < 0) { problems.Add("--ai-median must be positive and --ai-sigma not negative"); }
        if (!TryParseRange(ThinkTime, out _)) { problems.Add("--think must look like MIN-MAX in seconds, e.g. 2-6"); }
        if (!TryParseRange(AiSlowRange, out _)) { problems.Add("--ai-slow-range must look like MIN-MAX in seconds, e.g. 1.8-2.5"); }
        if (Boxes <= 0 || WorkersPerBox <= 0 || PoolSize <= 0 || NaivePoolSize <= 0)
        {
            problems.Add("--boxes, --workers-per-box, --pool-size and --naive-pool-size must be positive");
        }

        if (PgBouncerMaxClientConnections <= 0 || PgBouncerServerConnections <= 0)
        {
            problems.Add("--pgbouncer-max-client-conn and --pgbouncer-server-conns must be positive");
        }

        if (CacheCap <= 0 || PromptKilobytes <= 0) { problems.Add("--cache-cap and --prompt-kb must be positive"); }
        if (LockAlertSeconds <= 0 || MemoryAlertMegabytes <= 0 || MemoryWindowSeconds <= 0 || SaturationWindowSeconds <= 0)
        {
            problems.Add("alert thresholds and windows must be positive");
        }

        if (SaturationThreshold is <= 0 or > 1) { problems.Add("--saturation must be in (0, 1]"); }
        if (ClassBurstSeconds < 0) { problems.Add("--class-burst must not be negative"); }
        return problems.Count == 0 ? ValidationResult.Success() : ValidationResult.Error(string.Join(Environment.NewLine, problems));
    }

    private static (double Min, double Max) ParseRange(string text) =>
        TryParseRange(text, out var range) ? range : throw new FormatException($"'{text}' is not a MIN-MAX range");

    private static bool TryParseRange(string text, out (double Min, double Max) range)
    {
        range = default;
        var parts = text.Split('-', 2);
        if (parts.Length != 2
            || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var min)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var max)
            || min < 0 || max < min)
        {
            return false;
        }

        range = (min, max);
        return true;
    }
}
