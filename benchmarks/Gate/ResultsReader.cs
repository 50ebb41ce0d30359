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

    /// <summary>Reads every <c>*-report.csv</c> below <paramref name="folder"/>.</summary>
    /// <exception cref="GateInputException">The folder is missing, a file is malformed, or two rows share a key.</exception>
    public static RunResults ReadFolder(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new GateInputException($"the results folder {folder} does not exist (did the benchmarks run?)");
        }

        var files = Directory.EnumerateFiles(folder, "*-report.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var rows = new List<BenchmarkRow>();
        var seenIn = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            foreach (var row in ReadFile(file))
            {
                if (!seenIn.TryAdd(row.Key, file))
                {
                    throw new GateInputException(
                        $"two rows are both {row.Key} ({seenIn[row.Key]} and {file}); run each suite once, with one job, into one results folder");
                }

                rows.Add(row);
            }
        }

        return new RunResults(rows, files.Select(SuiteOf).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>Reads one results file.</summary>
    /// <exception cref="GateInputException">The file has no header, lacks a column the gate needs, or has a short row.</exception>
    public static IEnumerable<BenchmarkRow> ReadFile(string path)
    {
        var suite = SuiteOf(path);
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0].Length == 0)
        {
            throw new GateInputException($"{path} is empty: it has no header line");
        }

        // BenchmarkDotNet separates with its culture's list separator (the first character after "Method") and quotes only
        // cells that contain it, so any other separator character may appear unquoted inside a method's description.
        var separator = lines[0].StartsWith("Method", StringComparison.Ordinal) && lines[0].Length > 6 ? lines[0][6] : ',';
        var header = ParseLine(lines[0], separator);
        int Column(string name) =>
            Array.IndexOf(header, name) is var index and >= 0
                ? index
                : throw new GateInputException(
                    $"{path} has no '{name}' column; every suite needs [MemoryDiagnoser] and one [Benchmark(Baseline = true)] so each row has its ratios");
        var method = Column("Method");
        var ratio = Column("Ratio");
        var allocRatio = Column("Alloc Ratio");
        var mean = Column("Mean");
        var allocated = Column("Allocated");
        var identity = Enumerable.Range(0, header.Length).Where(i => i != method && !NonIdentityColumns.Contains(header[i])).ToList();
        var rows = new List<BenchmarkRow>();
        for (var n = 1; n < lines.Length; n++)
        {
            if (lines[n].Length == 0)
            {
                continue;
            }

            var cells = ParseLine(lines[n], separator);
            if (cells.Length != header.Length)
            {
                throw new GateInputException($"line {n + 1} of {path} has {cells.Length} cells where its header has {header.Length}");
            }

            var parameters = string.Join(", ", identity.Select(i => $"{header[i]}={cells[i]}"));
            var key = $"{suite}.{cells[method]}" + (parameters.Length > 0 ? $"({parameters})" : "");
            rows.Add(new BenchmarkRow(
                suite, key, ParseNumber(cells[ratio], separator), ParseNumber(cells[allocRatio], separator), cells[mean], cells[allocated],
                cells[ratio], cells[allocRatio], ParseBytes(cells[allocated], separator)));
        }

        return rows;
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

    /// <summary>
    /// A ratio as BenchmarkDotNet writes it: "0.89", "1,234.50" (a thousands separator from 1,000 on), or with ',' as the
    /// decimal separator in a ';'-separated file of a culture that writes "3,00". Anything else ("NA", "?", "-") is null.
    /// </summary>
    public static double? ParseNumber(string text, char separator)
    {
        var trimmed = text.Trim();
        var decimalComma = separator == ';' && trimmed.Contains(',', StringComparison.Ordinal) &&
                           trimmed.LastIndexOf(',') > trimmed.LastIndexOf('.');
        var format = decimalComma ? DecimalComma : NumberFormatInfo.InvariantInfo;
        return double.TryParse(trimmed, NumberStyles.Float | NumberStyles.AllowThousands, format, out var value) && double.IsFinite(value)
            ? value
            : null;
    }

    /// <summary>An Allocated cell ("0 B", "24 B", "1.5 KB", "9.88 MB", "1 GB"; BenchmarkDotNet's units are powers of 1,024) in bytes.</summary>
    public static double? ParseBytes(string text, char separator = ',')
    {
        var parts = text.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || ParseNumber(parts[0], separator) is not { } number || number < 0)
        {
            return null;
        }

        double? unit = parts[1] switch { "B" => 1, "KB" => 1024, "MB" => 1024 * 1024, "GB" => 1024.0 * 1024 * 1024, _ => null };
        return unit is null ? null : number * unit;
    }

    private static string SuiteOf(string path) => Path.GetFileName(path)[..^"-report.csv".Length];

    private static readonly NumberFormatInfo DecimalComma = new() { NumberDecimalSeparator = ",", NumberGroupSeparator = "." };
}
