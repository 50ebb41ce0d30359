using System.Globalization;
using System.Text.Json;

namespace Resilience.BenchmarkGate;

/// <summary>The committed ratios, and the comparison of a new run against them.</summary>
internal static class Gate
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static BaselineFile Load(string path) =>
        JsonSerializer.Deserialize<BaselineFile>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path} is empty");

    public static void Save(string path, BaselineFile baseline) =>
        File.WriteAllText(path, JsonSerializer.Serialize(baseline, Json) + Environment.NewLine);

    /// <summary>
    /// A benchmark got worse when its time ratio or its allocation ratio to the in-run baseline grew by more than
    /// <paramref name="threshold"/> (relative) over the committed one. A benchmark missing from a suite that
    /// ran is a failure too; suites that did not run (a partial run) are not judged.
    /// </summary>
    public static IReadOnlyList<Verdict> Compare(BaselineFile committed, IReadOnlyList<BenchmarkRow> run, double threshold)
    {
        var current = run.ToDictionary(r => r.Key, StringComparer.Ordinal);
        var suites = run.Select(r => r.Suite + ".").Distinct().ToList();
        var verdicts = new List<Verdict>();
        foreach (var (key, expected) in committed.Benchmarks.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!current.TryGetValue(key, out var row))
            {
                if (suites.Any(suite => key.StartsWith(suite, StringComparison.Ordinal)))
                {
                    verdicts.Add(new Verdict(key, false, "missing from this run of its suite"));
                }

                continue;
            }

            var problems = new List<string>();
            Check("time ratio", expected.Ratio, row.Ratio, threshold, problems);
            Check("alloc ratio", expected.AllocRatio, row.AllocRatio, threshold, problems);
            verdicts.Add(new Verdict(key, problems.Count == 0, problems.Count == 0
                ? $"time ratio {Format(row.Ratio)} (committed {Format(expected.Ratio)}), alloc ratio {Format(row.AllocRatio)} (committed {Format(expected.AllocRatio)})"
                : string.Join("; ", problems)));
        }

        foreach (var row in run.Where(r => !committed.Benchmarks.ContainsKey(r.Key)))
        {
            verdicts.Add(new Verdict(row.Key, true, $"new (not in the baseline file): time ratio {Format(row.Ratio)}"));
        }

        return verdicts;
    }

    public static BaselineFile FromRun(IReadOnlyList<BenchmarkRow> run, string command) => new()
    {
        Command = command,
        RecordedAt = DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture),
        Machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
        Benchmarks = run.ToDictionary(r => r.Key, r => new BaselineEntry { Ratio = r.Ratio, AllocRatio = r.AllocRatio, Mean = r.Mean, Allocated = r.Allocated }),
    };

    private static void Check(string what, double? committed, double? now, double threshold, List<string> problems)
    {
        if (committed is null or <= 0 || now is null)
        {
            return; // no ratio to compare (the baseline row itself, or an allocation-free pair)
        }

        var limit = committed.Value * (1 + threshold);
        if (now.Value > limit)
        {
            problems.Add($"{what} {Format(now)} is worse than the committed {Format(committed)} by more than {threshold:P0} (limit {Format(limit)})");
        }
    }

    private static string Format(double? value) => value?.ToString("0.###", CultureInfo.InvariantCulture) ?? "n/a";
}

/// <summary>benchmarks/baseline.json.</summary>
internal sealed class BaselineFile
{
    public string Command { get; set; } = "";

    public string RecordedAt { get; set; } = "";

    public string Machine { get; set; } = "";

    public Dictionary<string, BaselineEntry> Benchmarks { get; set; } = new(StringComparer.Ordinal);
}

internal sealed class BaselineEntry
{
    public double? Ratio { get; set; }

    public double? AllocRatio { get; set; }

    public string Mean { get; set; } = "";

    public string Allocated { get; set; } = "";
}

internal sealed record Verdict(string Key, bool Passed, string Detail);
