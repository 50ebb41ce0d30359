using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Resilience.BenchmarkGate;

/// <summary>The committed ratios, and the comparison of a new run against them.</summary>
internal static class Gate
{
    /// <summary>The largest threshold the gate takes: a ratio may grow to 11 times its committed value, no further.</summary>
    public const double MaxThreshold = 10;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Reads the baseline file strictly: unknown or misspelled members (property names are case-sensitive) are refused.</summary>
    /// <exception cref="GateInputException">The file is missing, unreadable, not a baseline, or has no benchmarks.</exception>
    public static BaselineFile Load(string path)
    {
        BaselineFile? file;
        try
        {
            file = JsonSerializer.Deserialize<BaselineFile>(File.ReadAllText(path), Json);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new GateInputException($"the baseline file {path} cannot be read: {error.Message}");
        }

        if (file?.Benchmarks is not { Count: > 0 } benchmarks)
        {
            throw new GateInputException($"the baseline file {path} has no benchmarks; record one with bash eng/bench.sh --update");
        }

        var unusable = benchmarks.Where(p => p.Value is null || p.Value.Ratio is not > 0).Select(p => p.Key).ToList();
        if (unusable.Count > 0)
        {
            throw new GateInputException(
                $"the baseline file {path} has entries without a positive time ratio: {string.Join(", ", unusable)}; re-record it with bash eng/bench.sh --update");
        }

        return file;
    }

    public static void Save(string path, BaselineFile baseline) =>
        File.WriteAllText(path, JsonSerializer.Serialize(baseline, Json) + Environment.NewLine);

    /// <summary>
    /// A benchmark got worse when its time ratio or its allocation ratio to the in-run baseline grew by more than
    /// <paramref name="threshold"/> (relative) over the committed one; where the in-run baseline allocates nothing (no
    /// allocation ratio), its allocated bytes are compared instead. A committed benchmark that is missing, or whose cells
    /// cannot be read, fails, when its suite ran (it wrote a results file) or is named in <paramref name="expectedSuites"/>
    /// (project folder names such as <c>Caching</c>, whose benchmarks live in <c>Resilience.Caching.Benchmarks</c>);
    /// suites that did neither (a partial run) are not judged.
    /// </summary>
    public static IReadOnlyList<Verdict> Compare(
        BaselineFile committed, RunResults run, double threshold, IReadOnlyCollection<string>? expectedSuites = null)
    {
        var current = run.Rows.ToDictionary(r => r.Key, StringComparer.Ordinal);
        var prefixes = run.Suites.Select(suite => suite + ".")
            .Concat((expectedSuites ?? []).Select(suite => $"Resilience.{suite}.Benchmarks."))
            .ToList();
        var verdicts = new List<Verdict>();
        foreach (var (key, expected) in committed.Benchmarks.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!current.TryGetValue(key, out var row))
            {
                if (prefixes.Any(prefix => key.StartsWith(prefix, StringComparison.Ordinal)))
                {
                    verdicts.Add(new Verdict(key, false, "missing from this run of its suite (did the benchmark fail, or was it renamed?)"));
                }

                continue;
            }

            var problems = new List<string>();
            Check("time ratio", expected.Ratio, row.Ratio, row.RatioText, threshold, problems);
            string allocation;
            if (expected.AllocRatio is > 0)
            {
                Check("alloc ratio", expected.AllocRatio, row.AllocRatio, row.AllocRatioText, threshold, problems);
                allocation = $"alloc ratio {Format(row.AllocRatio)} (committed {Format(expected.AllocRatio)})";
            }
            else
            {
                allocation = CheckBytes(expected.Allocated, row, threshold, problems);
            }

            verdicts.Add(new Verdict(key, problems.Count == 0, problems.Count == 0
                ? $"time ratio {Format(row.Ratio)} (committed {Format(expected.Ratio)}), {allocation}"
                : string.Join("; ", problems), Compared: true));
        }

        foreach (var row in run.Rows.Where(r => !committed.Benchmarks.ContainsKey(r.Key)))
        {
            verdicts.Add(new Verdict(row.Key, true, $"new (not in the baseline file): time ratio {Format(row.Ratio)}"));
        }

        return verdicts;
    }

    /// <summary>The baseline file for this run; entries of suites that did not run are kept from <paramref name="previous"/>.</summary>
    /// <exception cref="GateInputException">A row has no time ratio: a run with a failed benchmark is no baseline.</exception>
    public static BaselineFile FromRun(RunResults run, string command, BaselineFile? previous = null)
    {
        var broken = run.Rows.Where(r => r.Ratio is not > 0).Select(r => $"{r.Key} (Ratio '{r.RatioText}')").ToList();
        if (broken.Count > 0)
        {
            throw new GateInputException($"not recording a baseline from a run with rows that have no time ratio: {string.Join(", ", broken)}");
        }

        var suites = run.Suites.Select(suite => suite + ".").ToList();
        var benchmarks = new Dictionary<string, BaselineEntry>(StringComparer.Ordinal);
        foreach (var (key, entry) in previous?.Benchmarks ?? [])
        {
            if (!suites.Any(suite => key.StartsWith(suite, StringComparison.Ordinal)))
            {
                benchmarks[key] = entry;
            }
        }

        foreach (var row in run.Rows)
        {
            benchmarks[row.Key] = new BaselineEntry { Ratio = row.Ratio, AllocRatio = row.AllocRatio, Mean = row.Mean, Allocated = row.Allocated };
        }

        return new BaselineFile
        {
            Command = command,
            RecordedAt = DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture),
            Machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            Benchmarks = benchmarks,
        };
    }

    private static void Check(string what, double? committed, double? now, string nowText, double threshold, List<string> problems)
    {
        if (now is null)
        {
            problems.Add($"{what} cell '{nowText}' is not a number (committed {Format(committed)}): the benchmark failed or the table changed");
            return;
        }

        var limit = committed!.Value * (1 + threshold);
        if (now.Value > limit)
        {
            problems.Add($"{what} {Format(now)} is worse than the committed {Format(committed)} by more than {threshold:P0} (limit {Format(limit)})");
        }
    }

    /// <summary>Where the in-run baseline allocates nothing there is no ratio: the bytes themselves may not grow.</summary>
    private static string CheckBytes(string committedText, BenchmarkRow row, double threshold, List<string> problems)
    {
        if (ResultsReader.ParseBytes(committedText) is not { } committed)
        {
            return $"allocated {row.Allocated} (not judged: the baseline file has no byte count)";
        }

        if (row.AllocatedBytes is not { } now)
        {
            problems.Add($"allocated cell '{row.Allocated}' is not a size (committed {committedText})");
            return "";
        }

        var limit = committed * (1 + threshold);
        if (now > limit)
        {
            problems.Add($"allocated {row.Allocated} is more than the committed {committedText}" +
                         (committed > 0 ? $" by more than {threshold:P0}" : " (it allocated nothing)"));
        }

        return $"allocated {row.Allocated} (committed {committedText})";
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

/// <param name="Key">The benchmark.</param>
/// <param name="Passed">Whether it held.</param>
/// <param name="Detail">What was compared, or what got worse.</param>
/// <param name="Compared">Whether a committed entry was compared (false for new rows and missing ones).</param>
internal sealed record Verdict(string Key, bool Passed, string Detail, bool Compared = false);
