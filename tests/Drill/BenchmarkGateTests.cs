using FsCheck;
using FsCheck.Fluent;
using Resilience.BenchmarkGate;

namespace Resilience.Drill.Tests;

public sealed class BenchmarkGateTests
{
    private static BaselineFile Committed(params (string Key, double? Ratio, double? Alloc)[] rows) => new()
    {
        Benchmarks = rows.ToDictionary(r => r.Key, r => new BaselineEntry { Ratio = r.Ratio, AllocRatio = r.Alloc }),
    };

    private static BenchmarkRow Row(string suite, string key, double? ratio, double? alloc) => new(suite, key, ratio, alloc, "", "");

    [FsCheck.Xunit.Property]
    public Property A_ratio_passes_exactly_when_it_grew_by_no_more_than_the_threshold()
    {
        var ratios = Gen.Choose(1, 100_000).Select(n => n / 1000.0).ToArbitrary();
        var thresholds = Gen.Choose(0, 100).Select(n => n / 100.0).ToArbitrary();
        return Prop.ForAll(ratios, ratios, thresholds, (committed, now, threshold) =>
        {
            var verdict = Gate.Compare(
                Committed(("S.M", committed, null)), [Row("S", "S.M", now, null)], threshold).Single();
            return verdict.Passed == (now <= committed * (1 + threshold));
        });
    }

    [Fact]
    public void Allocation_ratio_growth_fails_the_gate_even_when_time_is_fine()
    {
        var verdict = Gate.Compare(Committed(("S.M", 1.0, 1.0)), [Row("S", "S.M", 1.0, 1.5)], 0.25).Single();

        Assert.False(verdict.Passed);
        Assert.Contains("alloc ratio", verdict.Detail);
    }

    [Fact]
    public void A_benchmark_missing_from_a_suite_that_ran_fails_but_a_suite_that_did_not_run_is_not_judged()
    {
        var committed = Committed(("A.Kept", 1.0, null), ("A.Gone", 1.0, null), ("B.Other", 1.0, null));

        var verdicts = Gate.Compare(committed, [Row("A", "A.Kept", 1.0, null)], 0.25);

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

            var rows = ResultsReader.ReadFolder(folder);

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

            var rows = ResultsReader.ReadFolder(folder);

            Assert.Equal(["Suite.'Apply (event" + other + " combined)'", "Suite.'Quoted" + s + " description'"], rows.Select(r => r.Key));
            Assert.Equal([0.89, 0.95], rows.Select(r => r.Ratio));
            Assert.Equal([0.66, 0.70], rows.Select(r => r.AllocRatio));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
