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
    /// <summary>The longest any time option may be: one day keeps every TimeSpan, delay and deadline of the drill in range.</summary>
    public const double MaxSeconds = 86_400;

    /// <summary>The most workers (boxes x workers per box) the drill simulates: each has its own pool in this one process.</summary>
    public const int MaxFleetWorkers = 10_000;

    // Every numeric option's rule in one place, stated again in its Description: Validate checks the bound value, and a
    // value that is not a number at all is reported with the same words (see UnconvertibleNumbers).
    private static readonly Dictionary<string, NumberRule> Rules = new(StringComparer.Ordinal)
    {
        ["--writers"] = NumberRule.Count(1, 100_000),
        ["--duration"] = new(0, MaxSeconds, AboveMin: true),
        ["--ramp"] = new(0, MaxSeconds),
        ["--ai-median"] = new(0, 60, AboveMin: true),
        ["--ai-sigma"] = new(0, 3),
        ["--ai-slow"] = new(0, 1),
        ["--fault-ai"] = new(0, 1),
        ["--fault-force-quit"] = new(0, 1),
        ["--fault-null-score"] = new(0, 1),
        ["--image-rate"] = new(0, 1),
        ["--class-burst"] = new(0, MaxSeconds),
        ["--boxes"] = NumberRule.Count(1, 1_000),
        ["--workers-per-box"] = NumberRule.Count(1, 1_000),
        ["--pool-size"] = NumberRule.Count(1, Pooling.PostgresPoolOptions.MaxSizeWithoutOptIn),
        ["--naive-pool-size"] = NumberRule.Count(1, 1_000),
        ["--pgbouncer-max-client-conn"] = NumberRule.Count(1, 1_000_000),
        ["--pgbouncer-server-conns"] = NumberRule.Count(1, 100_000),
        ["--cache-cap"] = NumberRule.Count(1, 10_000_000),
        ["--prompt-kb"] = NumberRule.Count(1, 1_024),
        ["--lock-alert"] = new(0, MaxSeconds, AboveMin: true),
        ["--memory-alert-mb"] = NumberRule.Count(1, 1_048_576),
        ["--memory-window"] = new(0, MaxSeconds, AboveMin: true),
        ["--saturation"] = new(0, 1, AboveMin: true),
        ["--saturation-window"] = new(0, MaxSeconds, AboveMin: true),
        ["--seed"] = NumberRule.Count(int.MinValue, int.MaxValue),
    };

    [CommandOption("-w|--writers <COUNT>")]
    [Description("Concurrent writers (the spike), 1 to 100,000. 2,400 is 4x the incident's normal peak of 600.")]
    [DefaultValue(2400)]
    public int Writers { get; init; }

    [CommandOption("-d|--duration <SECONDS>")]
    [Description("How long each mode runs, in seconds (after which writers finish their current submission): above 0, at most 86,400.")]
    [DefaultValue(60.0)]
    public double DurationSeconds { get; init; }

    [CommandOption("--ramp <SECONDS>")]
    [Description("Writers join evenly over this many seconds: 0 to 86,400.")]
    [DefaultValue(10.0)]
    public double RampSeconds { get; init; }

    [CommandOption("--mode <MODE>")]
    [Description("both | resilient | naive. 'both' runs the resilient stack, then the incident's naive stack.")]
    [DefaultValue("both")]
    public string Mode { get; init; } = "both";

    [CommandOption("--think <MIN-MAX>")]
    [Description("Seconds a writer spends between submissions, uniform in MIN-MAX (0 <= MIN <= MAX <= 86,400).")]
    [DefaultValue("2-6")]
    public string ThinkTime { get; init; } = "2-6";

    [CommandOption("--ai-median <SECONDS>")]
    [Description("Median simulated AI call (log-normal body), in seconds: above 0, at most 60.")]
    [DefaultValue(1.0)]
    public double AiMedianSeconds { get; init; }

    [CommandOption("--ai-sigma <SIGMA>")]
    [Description("Log-normal sigma of the AI call body: 0 to 3.")]
    [DefaultValue(0.35)]
    public double AiSigma { get; init; }

    [CommandOption("--ai-slow <RATE>")]
    [Description("Share of AI calls in the slow tail (the incident's 18-25 s calls under load), 0 to 1.")]
    [DefaultValue(0.08)]
    public double AiSlowRate { get; init; }

    [CommandOption("--ai-slow-range <MIN-MAX>")]
    [Description("Seconds a slow-tail AI call takes, uniform in MIN-MAX (0 <= MIN <= MAX <= 86,400).")]
    [DefaultValue("1.8-2.5")]
    public string AiSlowRange { get; init; } = "1.8-2.5";

    [CommandOption("--fault-ai <RATE>")]
    [Description("Share of AI calls that throw, 0 to 1.")]
    [DefaultValue(0.04)]
    public double AiErrorRate { get; init; }

    [CommandOption("--fault-force-quit <RATE>")]
    [Description("Share of submissions whose user force-quits during the AI call and retries at once, 0 to 1.")]
    [DefaultValue(0.02)]
    public double ForceQuitRate { get; init; }

    [CommandOption("--fault-null-score <RATE>")]
    [Description("Share of score computations that return null, 0 to 1.")]
    [DefaultValue(0.02)]
    public double NullScoreRate { get; init; }

    [CommandOption("--image-rate <RATE>")]
    [Description("Share of submissions with page images (1-4 pages uploaded at once), 0 to 1.")]
    [DefaultValue(0.4)]
    public double ImageRate { get; init; }

    [CommandOption("--class-burst <SECONDS>")]
    [Description("Every this many seconds a whole class (30 students) uploads in the same millisecond, at most 86,400. 0 turns it off.")]
    [DefaultValue(5.0)]
    public double ClassBurstSeconds { get; init; }

    [CommandOption("--boxes <COUNT>")]
    [Description("Boxes in the simulated fleet, 1 to 1,000 (and at most 10,000 workers in all: each has its own pool in this process).")]
    [DefaultValue(4)]
    public int Boxes { get; init; }

    [CommandOption("--workers-per-box <COUNT>")]
    [Description("Worker processes per box; each has its own connection pool. 1 to 1,000.")]
    [DefaultValue(6)]
    public int WorkersPerBox { get; init; }

    [CommandOption("--pool-size <COUNT>")]
    [Description("Resilient pool MaxSize per worker, 1 to 10 (Resilience.Pooling refuses more without AllowMaxSizeAbove10).")]
    [DefaultValue(8)]
    public int PoolSize { get; init; }

    [CommandOption("--naive-pool-size <COUNT>")]
    [Description("The incident's uncapped per-worker pool size (Npgsql Max Pool Size, direct to PostgreSQL), 1 to 1,000.")]
    [DefaultValue(50)]
    public int NaivePoolSize { get; init; }

    [CommandOption("--pgbouncer-max-client-conn <COUNT>")]
    [Description("PgBouncer's max_client_conn, declared to the fleet budget check (PgBouncer's limits cannot be read through Npgsql), 1 to 1,000,000. eng/services.sh sets 5,000.")]
    [DefaultValue(5000)]
    public int PgBouncerMaxClientConnections { get; init; }

    [CommandOption("--pgbouncer-server-conns <COUNT>")]
    [Description("How many server connections PgBouncer may open (max_db_connections), declared to the fleet budget check, 1 to 100,000. eng/services.sh sets 40.")]
    [DefaultValue(40)]
    public int PgBouncerServerConnections { get; init; }

    [CommandOption("--cache-cap <COUNT>")]
    [Description("Resilient prompt cache entry cap, 1 to 10,000,000.")]
    [DefaultValue(200)]
    public int CacheCap { get; init; }

    [CommandOption("--prompt-kb <KB>")]
    [Description("Size of one user's prompt context (system prompt + request + streamed chunks), in KB: 1 to 1,024.")]
    [DefaultValue(64)]
    public int PromptKilobytes { get; init; }

    [CommandOption("--lock-alert <SECONDS>")]
    [Description("Lock hold-time p95 alert threshold in seconds (the incident's 15 s at 1:10): above 0, at most 86,400.")]
    [DefaultValue(1.5)]
    public double LockAlertSeconds { get; init; }

    [CommandOption("--memory-alert-mb <MB>")]
    [Description("Process memory growth alert threshold over the memory window, in MB: 1 to 1,048,576.")]
    [DefaultValue(256)]
    public int MemoryAlertMegabytes { get; init; }

    [CommandOption("--memory-window <SECONDS>")]
    [Description("Window over which memory growth is measured, in seconds (the incident's 5 minutes at 1:10): above 0, at most 86,400.")]
    [DefaultValue(30.0)]
    public double MemoryWindowSeconds { get; init; }

    [CommandOption("--saturation <RATIO>")]
    [Description("Mean server connection utilisation (connections / max_connections) over the window that raises the saturation alert: above 0, at most 1.")]
    [DefaultValue(0.7)]
    public double SaturationThreshold { get; init; }

    [CommandOption("--saturation-window <SECONDS>")]
    [Description("The window the saturation alert averages over, in seconds (the incident's 60 s at 1:10): above 0, at most 86,400.")]
    [DefaultValue(6.0)]
    public double SaturationWindowSeconds { get; init; }

    [CommandOption("--seed <SEED>")]
    [Description("Random seed for the writers' dice.")]
    [DefaultValue(20261203)]
    public int Seed { get; init; }

    [CommandOption("-o|--output <FOLDER>")]
    [Description("Where drill-summary.txt, drill-report.json and drill-report.html are written; created and checked for writing before the drill starts.")]
    [DefaultValue("drill-report")]
    public string Output { get; init; } = "drill-report";

    [CommandOption("--pg <CONNECTION-STRING>")]
    [Description("Direct PostgreSQL (with pgvector). Default: RESILIENCE_PG, else the local services are started. Recorded as *** in the report.")]
    public string? Postgres { get; init; }

    [CommandOption("--pgbouncer <CONNECTION-STRING>")]
    [Description("PgBouncer in transaction mode in front of it. Default: RESILIENCE_PGBOUNCER. Recorded as *** in the report.")]
    public string? PgBouncer { get; init; }

    [CommandOption("--redis <CONFIGURATION>")]
    [Description("Redis. Default: RESILIENCE_REDIS. Recorded as *** in the report.")]
    public string? Redis { get; init; }

    public (double Min, double Max) ThinkRange => ParseRange(ThinkTime);

    public (double Min, double Max) AiSlowSeconds => ParseRange(AiSlowRange);

    public int FleetWorkers => checked(Boxes * WorkersPerBox);

    public bool RunsResilient => Mode is "both" or "resilient";

    public bool RunsNaive => Mode is "both" or "naive";

    public override ValidationResult Validate()
    {
        var problems = new List<string>();
        Check(problems, "--writers", Writers);
        Check(problems, "--duration", DurationSeconds);
        Check(problems, "--ramp", RampSeconds);
        if (Mode is not ("both" or "resilient" or "naive")) { problems.Add($"--mode must be both, resilient or naive, got '{Mode}'"); }
        if (!TryParseRange(ThinkTime, out _)) { problems.Add($"--think must look like MIN-MAX in seconds, 0 <= MIN <= MAX <= 86,400, e.g. 2-6, got '{ThinkTime}'"); }
        Check(problems, "--ai-median", AiMedianSeconds);
        Check(problems, "--ai-sigma", AiSigma);
        Check(problems, "--ai-slow", AiSlowRate);
        if (!TryParseRange(AiSlowRange, out _)) { problems.Add($"--ai-slow-range must look like MIN-MAX in seconds, 0 <= MIN <= MAX <= 86,400, e.g. 1.8-2.5, got '{AiSlowRange}'"); }
        Check(problems, "--fault-ai", AiErrorRate);
        Check(problems, "--fault-force-quit", ForceQuitRate);
        Check(problems, "--fault-null-score", NullScoreRate);
        Check(problems, "--image-rate", ImageRate);
        Check(problems, "--class-burst", ClassBurstSeconds);
        var boxesHeld = Check(problems, "--boxes", Boxes);
        var workersHeld = Check(problems, "--workers-per-box", WorkersPerBox);
        if (boxesHeld && workersHeld && (long)Boxes * WorkersPerBox > MaxFleetWorkers)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"--boxes x --workers-per-box must be at most {MaxFleetWorkers:N0} workers (each has its own pool in this process), got {(long)Boxes * WorkersPerBox:N0}"));
        }

        Check(problems, "--pool-size", PoolSize);
        Check(problems, "--naive-pool-size", NaivePoolSize);
        Check(problems, "--pgbouncer-max-client-conn", PgBouncerMaxClientConnections);
        Check(problems, "--pgbouncer-server-conns", PgBouncerServerConnections);
        Check(problems, "--cache-cap", CacheCap);
        Check(problems, "--prompt-kb", PromptKilobytes);
        Check(problems, "--lock-alert", LockAlertSeconds);
        Check(problems, "--memory-alert-mb", MemoryAlertMegabytes);
        Check(problems, "--memory-window", MemoryWindowSeconds);
        Check(problems, "--saturation", SaturationThreshold);
        Check(problems, "--saturation-window", SaturationWindowSeconds);
        if (OutputProblem(Output) is { } output) { problems.Add(output); }
        return problems.Count == 0 ? ValidationResult.Success() : ValidationResult.Error(string.Join(Environment.NewLine, problems));
    }

    /// <summary>
    /// Spectre's conversion error ("Failed to convert 'abc' to Int32.") does not say which option it was: names each
    /// numeric option in <paramref name="arguments"/> whose value does not convert, with that option's rule.
    /// </summary>
    public static IReadOnlyList<string> UnconvertibleNumbers(IReadOnlyList<string> arguments)
    {
        var options = new Dictionary<string, (string Option, Type Type)>(StringComparer.Ordinal);
        foreach (var property in typeof(DrillSettings).GetProperties())
        {
            if (property.GetCustomAttributes(typeof(CommandOptionAttribute), false) is [CommandOptionAttribute attribute]
                && Rules.ContainsKey("--" + attribute.LongNames[0]))
            {
                foreach (var name in attribute.LongNames.Select(n => "--" + n).Concat(attribute.ShortNames.Select(n => "-" + n)))
                {
                    options[name] = ("--" + attribute.LongNames[0], property.PropertyType);
                }
            }
        }

        var problems = new List<string>();
        for (var i = 0; i < arguments.Count; i++)
        {
            var separator = arguments[i].IndexOfAny(['=', ':']);
            if (!options.TryGetValue(separator > 0 ? arguments[i][..separator] : arguments[i], out var option))
            {
                continue;
            }

            var value = separator > 0 ? arguments[i][(separator + 1)..] : i + 1 < arguments.Count ? arguments[++i] : null;
            if (value is null)
            {
                problems.Add($"{option.Option} needs a value: {Rules[option.Option]}");
            }
            else if (!TypeDescriptor.GetConverter(option.Type).IsValid(value))
            {
                problems.Add($"{option.Option} must be {Rules[option.Option]}, got '{value}'");
            }
        }

        return problems;
    }

    /// <summary>Adds the option's problem when <paramref name="value"/> breaks its rule; returns whether it held.</summary>
    private static bool Check(List<string> problems, string option, double value)
    {
        var rule = Rules[option];
        if (rule.Allows(value))
        {
            return true;
        }

        problems.Add($"{option} must be {rule}, got {rule.Got(value)}");
        return false;
    }

    /// <summary>
    /// Creates the output folder and writes and deletes a probe file in it, so that an unusable <c>--output</c> stops the
    /// drill before any server is touched instead of losing the report after the whole run.
    /// </summary>
    private static string? OutputProblem(string folder)
    {
        if (string.IsNullOrWhiteSpace(folder))
        {
            return $"--output must name a folder, got '{folder}'";
        }

        try
        {
            var probe = Path.Combine(Directory.CreateDirectory(folder).FullName, $".drill-write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return $"--output must be a folder the drill can create and write to, got '{folder}': {error.Message}";
        }
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
            || !double.IsFinite(min) || !double.IsFinite(max) || min < 0 || max < min || max > MaxSeconds)
        {
            return false;
        }

        range = (min, max);
        return true;
    }

    /// <summary>What a numeric option accepts: a finite number from <see cref="Min"/> (or above it) to <see cref="Max"/>.</summary>
    private sealed record NumberRule(double Min, double Max, bool AboveMin = false, bool Whole = false)
    {
        public static NumberRule Count(int min, int max) => new(min, max, Whole: true);

        public bool Allows(double value) => double.IsFinite(value) && (AboveMin ? value > Min : value >= Min) && value <= Max;

        public string Got(double value) => Whole ? Bound(value) : value.ToString(CultureInfo.InvariantCulture);

        public override string ToString() => Whole
            ? $"a whole number from {Bound(Min)} to {Bound(Max)}"
            : $"a number {(AboveMin ? "above" : "from")} {Bound(Min)} {(AboveMin ? "and at most" : "to")} {Bound(Max)}";

        private static string Bound(double value) => value.ToString("#,0.###", CultureInfo.InvariantCulture);
    }
}
