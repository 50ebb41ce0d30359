using System.Globalization;
using Resilience.BenchmarkGate;

// benchmark-gate --results <folder> --baseline <file> [--threshold 0.25] [--update] [--command "..."]
var options = Arguments.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: benchmark-gate --results <folder> --baseline <baseline.json> [--threshold 0.25] [--update] [--command \"how the run was made\"]");
    return 2;
}

var run = ResultsReader.ReadFolder(options.Results);
if (run.Count == 0)
{
    Console.Error.WriteLine($"no BenchmarkDotNet *-report.csv files under {options.Results}");
    return 2;
}

if (options.Update)
{
    Gate.Save(options.Baseline, Gate.FromRun(run, options.Command));
    Console.WriteLine($"wrote {run.Count} benchmark ratios to {options.Baseline}");
    return 0;
}

var verdicts = Gate.Compare(Gate.Load(options.Baseline), run, options.Threshold);
foreach (var verdict in verdicts)
{
    Console.WriteLine($"{(verdict.Passed ? "ok  " : "FAIL")} {verdict.Key}: {verdict.Detail}");
}

var failed = verdicts.Count(v => !v.Passed);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"benchmark gate: {verdicts.Count - failed} ok, {failed} worse than the committed ratios (threshold {options.Threshold:P0})"));
return failed == 0 ? 0 : 1;

internal sealed record Arguments(string Results, string Baseline, double Threshold, bool Update, string Command)
{
    public static Arguments? Parse(string[] args)
    {
        string? results = null, baseline = null, command = "";
        var threshold = 0.25;
        var update = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--results" when i + 1 < args.Length: results = args[++i]; break;
                case "--baseline" when i + 1 < args.Length: baseline = args[++i]; break;
                case "--command" when i + 1 < args.Length: command = args[++i]; break;
                case "--threshold" when i + 1 < args.Length
                    && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && t >= 0:
                    threshold = t;
                    i++;
                    break;
                case "--update": update = true; break;
                default: return null;
            }
        }

        return results is null || baseline is null ? null : new Arguments(results, baseline, threshold, update, command);
    }
}
