using FsCheck;
using FsCheck.Fluent;
using Resilience.BenchmarkGate;
using Resilience.TestSupport;

namespace Resilience.Drill.Tests;

public sealed class BenchmarkGateTests
{
    private static BaselineFile Committed(params (string Key, double? Ratio, double? Alloc)[] rows) => new()
    {
        Benchmarks = rows.ToDictionary(r => r.Key, r => new BaselineEntry { Ratio = r.Ratio, AllocRatio = r.Alloc }),
    };

    private static BenchmarkRow Row(string suite, string key, double? ratio, double? alloc) => new(suite, key, ratio, alloc, "", "");

    private static RunResults Run(params BenchmarkRow[] rows) => new(rows, rows.Select(r => r.Suite).ToHashSet());

    [FsCheck.Xunit.Property]
    public Property A_ratio_passes_exactly_when_it_grew_by_no_more_than_the_threshold()
    {
        var ratios = Gen.Choose(1, 100_000).Select(n => n / 1000.0).ToArbitrary();
        var thresholds = Gen.Choose(0, 100).Select(n => n / 100.0).ToArbitrary();
        return Prop.ForAll(ratios, ratios, thresholds, (committed, now, threshold) =>
        {
            var verdict = Gate.Compare(
                Committed(("S.M", committed, 1.0)), Run(Row("S", "S.M", now, 1.0)), threshold).Single();
            return verdict.Passed == (now <= committed * (1 + threshold));
        });
    }

    [Fact]
    public void Allocation_ratio_growth_fails_the_gate_even_when_time_is_fine()
    {
        var verdict = Gate.Compare(Committed(("S.M", 1.0, 1.0)), Run(Row("S", "S.M", 1.0, 1.5)), 0.25).Single();

        Assert.False(verdict.Passed);
        Assert.Contains("alloc ratio", verdict.Detail);
    }

    [Fact]
    public void A_benchmark_missing_from_a_suite_that_ran_fails_but_a_suite_that_did_not_run_is_not_judged()
    {
        var committed = Committed(("A.Kept", 1.0, null), ("A.Gone", 1.0, null), ("B.Other", 1.0, null));

        var verdicts = Gate.Compare(committed, Run(Row("A", "A.Kept", 1.0, null)), 0.25);

        Assert.Contains(verdicts, v => v.Key == "A.Gone" && !v.Passed);
        Assert.DoesNotContain(verdicts, v => v.Key == "B.Other");
        Assert.Contains(verdicts, v => v.Key == "A.Kept" && v.Passed);
    }

    [Fact]
    public void Reads_the_ratio_columns_and_parameters_of_a_BenchmarkDotNet_csv()
    {
        var folder = Directory.CreateTempSubdirectory("gate-").FullName;
        try
        {
            var csv = Path.Combine(folder, "Resilience.Pooling.Benchmarks.RentBenchmarks-report.csv");
            File.WriteAllLines(csv,
            [
                "Method,Job,IterationCount,Callers,Mean,Error,Ratio,RatioSD,Allocated,Alloc Ratio",
                "NpgsqlPool,ShortRun,3,64,\"1,234.5 us\",10 us,1.00,0.00,120 B,1.00",
                "ResiliencePool,ShortRun,3,64,\"1,100.0 us\",11 us,0.89,0.02,96 B,0.80",
            ]);

            var rows = ResultsReader.ReadFolder(folder).Rows;

            Assert.Equal(2, rows.Count);
            var ours = rows.Single(r => r.Key.Contains("ResiliencePool", StringComparison.Ordinal));
            Assert.Equal("Resilience.Pooling.Benchmarks.RentBenchmarks.ResiliencePool(Callers=64)", ours.Key);
            Assert.Equal(0.89, ours.Ratio);
            Assert.Equal(0.80, ours.AllocRatio);
            Assert.Equal("1,100.0 us", ours.Mean);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData(',', ';')]
    [InlineData(';', ',')]
    public void The_other_separator_inside_an_unquoted_description_stays_part_of_the_method_name(char separator, char other)
    {
        var folder = Directory.CreateTempSubdirectory("gate-").FullName;
        try
        {
            var s = separator;
            File.WriteAllLines(Path.Combine(folder, "Suite-report.csv"),
            [
                $"Method{s}Job{s}Mean{s}Ratio{s}Allocated{s}Alloc Ratio",
                $"'Apply (event{other} combined)'{s}ShortRun{s}85 us{s}0.89{s}2 KB{s}0.66",
                $"\"'Quoted{s} description'\"{s}ShortRun{s}90 us{s}0.95{s}2 KB{s}0.70",
            ]);

            var rows = ResultsReader.ReadFolder(folder).Rows;

            Assert.Equal(["Suite.'Apply (event" + other + " combined)'", "Suite.'Quoted" + s + " description'"], rows.Select(r => r.Key));
            Assert.Equal([0.89, 0.95], rows.Select(r => r.Ratio));
            Assert.Equal([0.66, 0.70], rows.Select(r => r.AllocRatio));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private const string Header = "Method,Job,Mean,Ratio,Allocated,Alloc Ratio";

    /// <summary>A results folder with one file per suite, each given as its lines after the header.</summary>
    private sealed class ResultsFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("gate-").FullName;

        public ResultsFolder With(string suite, params string[] lines)
        {
            File.WriteAllLines(System.IO.Path.Combine(Path, $"{suite}-report.csv"), lines);
            return this;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("?")]
    [InlineData("NA")]
    [InlineData("-")]
    [InlineData("N/A")]
    [InlineData("")]
    [InlineData("3.00x")]
    [InlineData("+200%")]
    [InlineData("Infinity")]
    public void An_unreadable_ratio_of_a_committed_benchmark_fails(string cell)
    {
        using var results = new ResultsFolder().With("S", Header, "Base,ShortRun,1 us,1.00,0 B,NA", $"Ours,ShortRun,3 us,{cell},0 B,NA");

        var verdicts = Gate.Compare(Committed(("S.Base", 1.0, null), ("S.Ours", 1.0, null)), ResultsReader.ReadFolder(results.Path), 0.25);

        var ours = verdicts.Single(v => v.Key == "S.Ours");
        Assert.False(ours.Passed);
        Assert.Contains($"cell '{cell}' is not a number", ours.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(',', "\"1,234.50\"", 1234.5)] // BenchmarkDotNet writes N2 ratios with a thousands separator from 1,000 on
    [InlineData(';', "1,234.50", 1234.5)]
    [InlineData(';', "3,00", 3.0)] // a culture with a decimal comma, in a ';'-separated file
    [InlineData(';', "1.234,50", 1234.5)]
    [InlineData(',', "0.89", 0.89)]
    public void Ratios_are_read_as_BenchmarkDotNet_writes_them(char separator, string cell, double expected)
    {
        var s = separator;
        using var results = new ResultsFolder().With("S", $"Method{s}Job{s}Mean{s}Ratio{s}Allocated{s}Alloc Ratio", $"Ours{s}ShortRun{s}1 us{s}{cell}{s}0 B{s}NA");

        Assert.Equal(expected, ResultsReader.ReadFolder(results.Path).Rows.Single().Ratio);
    }

    [Fact]
    public void A_thousandfold_slowdown_fails()
    {
        using var results = new ResultsFolder().With("S", Header, "Base,ShortRun,1 us,1.00,0 B,NA", "Ours,ShortRun,\"1,234 us\",\"1,234.50\",0 B,NA");

        var verdicts = Gate.Compare(Committed(("S.Base", 1.0, null), ("S.Ours", 6.09, null)), ResultsReader.ReadFolder(results.Path), 0.25);

        Assert.False(verdicts.Single(v => v.Key == "S.Ours").Passed);
    }

    [Theory]
    [InlineData("0 B", "10 KB", false)] // nothing allocated before: any allocation fails
    [InlineData("24 B", "24 B", true)]
    [InlineData("24 B", "32 B", false)]
    [InlineData("9.88 MB", "10.5 MB", true)]
    [InlineData("9.88 MB", "12.5 MB", false)]
    public void Where_the_in_run_baseline_allocates_nothing_the_bytes_are_compared(string committed, string now, bool passes)
    {
        var file = Committed(("S.Ours", 1.0, null));
        file.Benchmarks["S.Ours"].Allocated = committed;
        using var results = new ResultsFolder().With("S", Header, $"Ours,ShortRun,1 us,1.00,{now},NA");

        var verdict = Gate.Compare(file, ResultsReader.ReadFolder(results.Path), 0.25).Single();

        Assert.Equal(passes, verdict.Passed);
    }

    [Fact]
    public void An_expected_suite_that_wrote_nothing_or_only_a_header_fails()
    {
        var committed = Committed(
            ("Resilience.A.Benchmarks.X.M", 1.0, null), ("Resilience.B.Benchmarks.Y.M", 1.0, null), ("Resilience.C.Benchmarks.Z.M", 1.0, null));
        using var results = new ResultsFolder()
            .With("Resilience.A.Benchmarks.X", Header, "M,ShortRun,1 us,1.00,0 B,NA")
            .With("Resilience.B.Benchmarks.Y", Header);

        var verdicts = Gate.Compare(committed, ResultsReader.ReadFolder(results.Path), 0.25, expectedSuites: ["A", "B", "C"]);

        Assert.True(verdicts.Single(v => v.Key == "Resilience.A.Benchmarks.X.M").Passed);
        Assert.False(verdicts.Single(v => v.Key == "Resilience.B.Benchmarks.Y.M").Passed); // header only: its suite ran
        Assert.False(verdicts.Single(v => v.Key == "Resilience.C.Benchmarks.Z.M").Passed); // no file at all, but expected
    }

    [Theory]
    [InlineData("Method,Job,Mean,Allocated,Alloc Ratio", "'Ratio'")]
    [InlineData("Job,Mean,Ratio,Allocated,Alloc Ratio", "'Method'")]
    [InlineData("Method,Job,Mean,Ratio,Allocated", "'Alloc Ratio'")]
    public void A_results_file_without_a_column_the_gate_needs_is_refused(string header, string column)
    {
        using var results = new ResultsFolder().With("S", header, "Ours,ShortRun,1 us,1.00,0 B");

        var error = Assert.Throws<GateInputException>(() => ResultsReader.ReadFolder(results.Path));
        Assert.Contains(column, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_results_are_refused_with_where_they_are()
    {
        using var shortRow = new ResultsFolder().With("S", Header, "Ours,ShortRun,1 us");
        Assert.Contains("line 2", Assert.Throws<GateInputException>(() => ResultsReader.ReadFolder(shortRow.Path)).Message, StringComparison.Ordinal);

        using var twice = new ResultsFolder().With("S", Header, "Ours,ShortRun,1 us,1.00,0 B,NA", "Ours,LongRun,1 us,1.00,0 B,NA");
        Assert.Contains("two rows are both S.Ours", Assert.Throws<GateInputException>(() => ResultsReader.ReadFolder(twice.Path)).Message, StringComparison.Ordinal);

        using var empty = new ResultsFolder().With("S");
        Assert.Contains("is empty", Assert.Throws<GateInputException>(() => ResultsReader.ReadFolder(empty.Path)).Message, StringComparison.Ordinal);

        Assert.Contains("does not exist", Assert.Throws<GateInputException>(() => ResultsReader.ReadFolder("/nonexistent/results")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_with_a_failed_benchmark_is_not_recorded_as_a_baseline()
    {
        using var results = new ResultsFolder().With("S", Header, "Base,ShortRun,1 us,1.00,0 B,NA", "Ours,ShortRun,?,NA,?,NA");

        var error = Assert.Throws<GateInputException>(() => Gate.FromRun(ResultsReader.ReadFolder(results.Path), "test"));
        Assert.Contains("S.Ours (Ratio 'NA')", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "cannot be read")]
    [InlineData("{}", "has no benchmarks")]
    [InlineData("null", "has no benchmarks")]
    [InlineData("{\"Benchmarks\": null}", "has no benchmarks")]
    [InlineData("{\"benchmarks\": {\"S.M\": {\"ratio\": 1}}}", "cannot be read")] // property names are case-sensitive
    [InlineData("{\"Benchmarks\": {\"S.M\": {\"Ratio\": \"1\"}}}", "cannot be read")]
    [InlineData("{\"Benchmarks\": {\"S.M\": {\"Ratio\": null}}}", "without a positive time ratio")]
    [InlineData("{\"Benchmarks\": {\"S.M\": {\"Ratio\": 0}}}", "without a positive time ratio")]
    [InlineData("{\"Benchmarks\": {", "cannot be read")]
    public void A_baseline_file_the_gate_cannot_trust_is_refused(string json, string reason)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, json);
            Assert.Contains(reason, Assert.Throws<GateInputException>(() => Gate.Load(path)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("--threshold", "Infinity")]
    [InlineData("--threshold", "1e308")]
    [InlineData("--threshold", "-1")]
    [InlineData("--threshold", "abc")]
    [InlineData("--bogus", "1")]
    public async Task Bad_arguments_name_the_problem_and_exit_2(string option, string value)
    {
        using var results = new ResultsFolder().With("S", Header, "Ours,ShortRun,1 us,1.00,0 B,NA");

        var (code, output) = await RunGateAsync("--results", results.Path, "--baseline", "/nonexistent.json", option, value);

        Assert.Equal(2, code);
        Assert.Contains(option == "--bogus" ? "unknown argument '--bogus'" : $"got '{value}'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_that_shares_no_benchmark_with_the_baseline_exits_2_and_a_missing_baseline_says_so()
    {
        using var results = new ResultsFolder().With("Renamed", Header, "Ours,ShortRun,9 us,9.00,0 B,NA");
        var baseline = Path.GetTempFileName();
        try
        {
            File.WriteAllText(baseline, "{\"Benchmarks\": {\"Original.Ours\": {\"Ratio\": 1}}}");
            var (code, output) = await RunGateAsync("--results", results.Path, "--baseline", baseline);
            Assert.Equal(2, code);
            Assert.Contains("no committed benchmark was compared", output, StringComparison.Ordinal);

            var (missingCode, missing) = await RunGateAsync("--results", results.Path, "--baseline", baseline + ".missing");
            Assert.Equal(2, missingCode);
            Assert.Contains("cannot be read", missing, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", missing, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(baseline);
        }
    }

    private static Task<(int ExitCode, string Output)> RunGateAsync(params string[] args) => ProcessRunner.RunAsync(
        AppContext.BaseDirectory, new Dictionary<string, string>(), TestContext.Current.CancellationToken,
        ["dotnet", Path.Combine(AppContext.BaseDirectory, "benchmark-gate.dll"), .. args]);
}
