using System.Globalization;
using System.Text;

namespace Resilience.BenchmarkGate;

/// <summary>Reads the <c>*-report.csv</c> files BenchmarkDotNet writes into each suite's results folder.</summary>
internal static class ResultsReader
{
    // Columns BenchmarkDotNet adds that describe the job or the measurement rather than the benchmark's identity.
    private static readonly HashSet<string> NonIdentityColumns = new(StringComparer.Ordinal)
    {
        "Method", "Job", "AnalyzeLaunchVariance", "EvaluateOverhead", "MaxAbsoluteError", "MaxRelativeError", "MinInvokeCount",
        "MinIterationTime", "OutlierMode", "Affinity", "EnvironmentVariables", "Jit", "LargeAddressAware", "Platform", "PowerPlanMode",
        "Runtime", "AllowVeryLargeObjects", "Concurrent", "CpuGroups", "Force", "HeapAffinitizeMask", "HeapCount", "NoAffinitize",
        "RetainVm", "Server", "Arguments", "BuildConfiguration", "Clock", "EngineFactory", "NuGetReferences", "Toolchain",
        "IsMutator", "InvocationCount", "IterationCount", "IterationTime", "LaunchCount", "MaxIterationCount", "MaxWarmupIterationCount",
        "MemoryRandomization", "MinIterationCount", "MinWarmupIterationCount", "RunStrategy", "UnrollFactor", "WarmupCount",
        "Mean", "Error", "StdDev", "Median", "Min", "Max", "Q1", "Q3", "Op/s", "Ratio", "RatioSD", "Gen0", "Gen1", "Gen2",
        "Allocated", "Alloc Ratio", "Completed Work Items", "Lock Contentions", "Baseline", "Categories", "Rank", "StdErr",
    };

    public static IReadOnlyList<BenchmarkRow> ReadFolder(string folder)
    {
        var files = Directory.EnumerateFiles(folder, "*-report.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        return files.SelectMany(ReadFile).ToList();
    }

    public static IEnumerable<BenchmarkRow> ReadFile(string path)
    {
        var suite = Path.GetFileName(path)[..^"-report.csv".Length];
        var lines = File.ReadAllLines(path);
        if (lines.Length < 2)
        {
            yield break;
        }

        // BenchmarkDotNet separates with its culture's list separator (the first character after "Method") and quotes only
        // cells that contain it, so any other separator character may appear unquoted inside a method's description.
        var separator = lines[0].StartsWith("Method", StringComparison.Ordinal) && lines[0].Length > 6 ? lines[0][6] : ',';
        var header = ParseLine(lines[0], separator);
        int Column(string name) => Array.IndexOf(header, name);
        var method = Column("Method");
        var ratio = Column("Ratio");
        var allocRatio = Column("Alloc Ratio");
        var mean = Column("Mean");
        var allocated = Column("Allocated");
        var identity = Enumerable.Range(0, header.Length).Where(i => i != method && !NonIdentityColumns.Contains(header[i])).ToList();
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var cells = ParseLine(line, separator);
            var parameters = string.Join(", ", identity.Select(i => $"{header[i]}={cells[i]}"));
            var key = $"{suite}.{cells[method]}" + (parameters.Length > 0 ? $"({parameters})" : "");
            yield return new BenchmarkRow(
                suite,
                key,
                ratio >= 0 ? ParseNumber(cells[ratio]) : null,
                allocRatio >= 0 ? ParseNumber(cells[allocRatio]) : null,
                mean >= 0 ? cells[mean] : "",
                allocated >= 0 ? cells[allocated] : "");
        }
    }

    /// <summary>Parses one CSV line with double-quoted fields, split at <paramref name="separator"/>.</summary>
    public static string[] ParseLine(string line, char separator)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == separator)
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        cells.Add(cell.ToString());
        return [.. cells];
    }

    private static double? ParseNumber(string text) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
}
