namespace Resilience.BenchmarkGate;

/// <summary>One row of a BenchmarkDotNet results table: a benchmark, its parameters, and its ratios to the in-run baseline.</summary>
internal sealed record BenchmarkRow(string Suite, string Key, double? Ratio, double? AllocRatio, string Mean, string Allocated);
