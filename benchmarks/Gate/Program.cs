using System.Globalization;
using Resilience.BenchmarkGate;

// benchmark-gate --results <folder> --baseline <file> [--threshold 0.25] [--expect "Caching Locks"] [--update] [--command "..."]
// Exit 0: every committed ratio held; 1: one got worse, or is missing or unreadable; 2: the inputs cannot be judged.
const string Usage =
    "usage: benchmark-gate --results <folder> --baseline <baseline.json> [--threshold 0.25] [--expect \"Suite ...\"] [--update] [--command \"how the run was made\"]";

var (options, problem) = Arguments.Parse(args);
if (options is null)
{
    Console.Error.WriteLine($"benchmark gate: {problem}");
    Console.Error.WriteLine(Usage);
    return 2;
}

try
{
    var run = ResultsReader.ReadFolder(options.Results);
    if (run.Rows.Count == 0)
    {
        Console.Error.WriteLine(run.Suites.Count == 0
            ? $"benchmark gate: no BenchmarkDotNet *-report.csv files under {options.Results}"
            : $"benchmark gate: the {run.Suites.Count} *-report.csv files under {options.Results} have no benchmark rows");
        return 2;
    }

    if (options.Update)
    {
        // Suites that did not run keep their committed ratios.
        var previous = File.Exists(options.Baseline) ? Gate.Load(options.Baseline) : null;
        Gate.Save(options.Baseline, Gate.FromRun(run, options.Command, previous));
        Console.WriteLine($"wrote {run.Rows.Count} benchmark ratios to {options.Baseline}");
        return 0;
    }

    var verdicts = Gate.Compare(Gate.Load(options.Baseline), run, options.Threshold, options.Expect);
    foreach (var verdict in verdicts)
    {
        Console.WriteLine($"{(verdict.Passed ? "ok  " : "FAIL")} {verdict.Key}: {verdict.Detail}");
    }

    var failed = verdicts.Count(v => !v.Passed);
    var compared = verdicts.Count(v => v.Compared);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"benchmark gate: {compared} compared, {verdicts.Count - failed} ok, {failed} worse than, missing from or unreadable against the committed ratios (threshold {options.Threshold:P0})"));
    if (compared == 0 && failed == 0)
    {
        Console.Error.WriteLine("benchmark gate: no committed benchmark was compared: the run and the baseline file share no benchmark");
        return 2;
    }

    return failed == 0 ? 0 : 1;
}
catch (GateInputException error)
{
    Console.Error.WriteLine($"benchmark gate: {error.Message}");
    return 2;
}
catch (Exception error) when (error is IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"benchmark gate: {error.Message}");
    return 2;
}

internal sealed record Arguments(string Results, string Baseline, double Threshold, bool Update, string Command, IReadOnlyList<string> Expect)
{
    /// <summary>The options, or null and what is wrong with them.</summary>
    public static (Arguments? Options, string Problem) Parse(string[] args)
    {
        string? results = null, baseline = null, command = "";
        var threshold = 0.25;
        var update = false;
        var expect = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var option = args[i];
            if (option == "--update")
            {
                update = true;
                continue;
            }

            if (option is not ("--results" or "--baseline" or "--command" or "--threshold" or "--expect"))
            {
                return (null, $"unknown argument '{option}'");
            }

            if (i + 1 >= args.Length)
            {
                return (null, $"{option} needs a value");
            }

            var value = args[++i];
            switch (option)
            {
                case "--results": results = value; break;
                case "--baseline": baseline = value; break;
                case "--command": command = value; break;
                case "--expect": expect.AddRange(value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); break;
                default:
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out threshold) ||
                        !double.IsFinite(threshold) || threshold < 0 || threshold > Gate.MaxThreshold)
                    {
                        return (null, $"--threshold must be a number from 0 to {Gate.MaxThreshold} (0.25 = 25 % worse), got '{value}'");
                    }

                    break;
            }
        }

        return results is null ? (null, "--results is required")
            : baseline is null ? (null, "--baseline is required")
            : (new Arguments(results, baseline, threshold, update, command, expect), "");
    }
}
