namespace Resilience.BenchmarkGate;

/// <summary>One row of a BenchmarkDotNet results table: a benchmark, its parameters, and its ratios to the in-run baseline.</summary>
/// <param name="Suite">The results file's name without <c>-report.csv</c> (the benchmark class).</param>
/// <param name="Key">Suite, method and parameters: the name the baseline file knows the row by.</param>
/// <param name="Ratio">The time ratio to the in-run baseline, or null when the cell did not hold a number.</param>
/// <param name="AllocRatio">The allocation ratio, or null when the cell did not hold a number (e.g. NA: the baseline allocates nothing).</param>
/// <param name="Mean">The Mean cell as written.</param>
/// <param name="Allocated">The Allocated cell as written.</param>
/// <param name="RatioText">The Ratio cell as written, for messages.</param>
/// <param name="AllocRatioText">The Alloc Ratio cell as written, for messages.</param>
/// <param name="AllocatedBytes">The Allocated cell in bytes, or null when it did not hold a size.</param>
internal sealed record BenchmarkRow(
    string Suite,
    string Key,
    double? Ratio,
    double? AllocRatio,
    string Mean,
    string Allocated,
    string RatioText = "",
    string AllocRatioText = "",
    double? AllocatedBytes = null);

/// <summary>What one run produced: its rows, and every suite that wrote a results file (even one without rows).</summary>
internal sealed record RunResults(IReadOnlyList<BenchmarkRow> Rows, IReadOnlySet<string> Suites);

/// <summary>Results or a baseline file the gate cannot judge by: it stops with this message (exit 2).</summary>
internal sealed class GateInputException(string message) : Exception(message);
