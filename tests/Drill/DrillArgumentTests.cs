using System.Diagnostics;
using System.Text.Json;
using Resilience.Drill.Reporting;
using Resilience.TestSupport;

namespace Resilience.Drill.Tests;

/// <summary>
/// The drill's exit code 2 ("the drill could not run"): bad arguments and unreachable servers stop it at once with one
/// message naming the option or the server, never a stack trace. Every server setting points at a closed port, so
/// nothing can be started and no drill can run; each case takes well under a second.
/// </summary>
public sealed class DrillArgumentTests
{
    private const string ClosedPostgres = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=secret-password";
    private const string ClosedRedis = "127.0.0.1:1";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static TheoryData<string[], string[]> BadArguments => new()
    {
        { ["--writers", "0"], ["--writers"] },
        { ["--writers", "abc"], ["--writers"] },
        { ["--writers", "99999999999"], ["--writers"] },
        { ["--writers"], ["--writers"] },
        { ["--bogus"], ["bogus"] },
        { ["--writer", "10"], ["writer"] },
        { ["-x", "1"], ["'x'"] },
        { ["--duration", "NaN"], ["--duration"] },
        { ["--ai-sigma", "Infinity"], ["--ai-sigma"] },
        { ["--think", "1-NaN"], ["--think"] },
        { ["--boxes", "100000", "--workers-per-box", "100000"], ["--boxes", "--workers-per-box"] },
        { ["--boxes", "1000", "--workers-per-box", "1000"], ["--boxes x --workers-per-box"] },
        { ["--prompt-kb", "100000000"], ["--prompt-kb"] },
        { ["--memory-alert-mb", "0", "--saturation", "NaN"], ["--memory-alert-mb", "--saturation"] },
        { ["--mode", "typo"], ["--mode"] },
        { ["--output", ""], ["--output"] },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public async Task Bad_arguments_exit_2_with_a_message_naming_the_option_and_no_stack_trace(string[] arguments, string[] named)
    {
        var (exitCode, output, _) = await RunDrillAsync(arguments, TestContext.Current.CancellationToken);

        Assert.True(exitCode == 2, $"exit code {exitCode}:{Environment.NewLine}{output}");
        Assert.All(named, name => Assert.Contains(name, output, StringComparison.Ordinal));
        AssertNoStackTrace(output);
    }

    [Fact]
    public async Task An_output_path_that_is_an_existing_file_exits_2_before_any_server_is_touched()
    {
        var file = Path.GetTempFileName();
        try
        {
            var (exitCode, output, _) = await RunDrillAsync(["--output", file], TestContext.Current.CancellationToken);

            Assert.True(exitCode == 2, $"exit code {exitCode}:{Environment.NewLine}{output}");
            Assert.Contains("--output", output, StringComparison.Ordinal);
            Assert.DoesNotContain("servers", output, StringComparison.Ordinal); // refused before the servers were resolved
            AssertNoStackTrace(output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Unreachable_servers_exit_2_promptly_naming_each_server_and_what_to_do()
    {
        var output = Directory.CreateTempSubdirectory("resilience-drill-args-").FullName;
        try
        {
            var (exitCode, log, elapsed) = await RunDrillAsync(
                ["--writers", "10", "--duration", "1", "--output", output], TestContext.Current.CancellationToken);

            Assert.True(exitCode == 2, $"exit code {exitCode}:{Environment.NewLine}{log}");
            Assert.True(elapsed < TimeSpan.FromSeconds(30), $"took {elapsed}");
            Assert.Contains("PostgreSQL (--pg / RESILIENCE_PG) at 127.0.0.1:1", log, StringComparison.Ordinal);
            Assert.Contains("PgBouncer (--pgbouncer / RESILIENCE_PGBOUNCER) at 127.0.0.1:1", log, StringComparison.Ordinal);
            Assert.Contains("Redis (--redis / RESILIENCE_REDIS) at 127.0.0.1:1", log, StringComparison.Ordinal);
            Assert.Contains("eng/services.sh", log, StringComparison.Ordinal);
            Assert.DoesNotContain("secret-password", log, StringComparison.Ordinal);
            AssertNoStackTrace(log);
            Assert.Empty(Directory.EnumerateFileSystemEntries(output)); // nothing ran, so no report claims anything
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void The_recorded_command_line_hides_the_server_settings_and_has_no_trailing_space()
    {
        Assert.Equal("bash eng/drill.sh", DrillCommand.CommandLine([]));
        Assert.Equal(
            "bash eng/drill.sh --writers 10 --pg *** --pgbouncer=*** --redis *** --output out",
            DrillCommand.CommandLine(
                ["--writers", "10", "--pg", ClosedPostgres, "--pgbouncer=" + ClosedPostgres, "--redis", "r:1,password=p", "--output", "out"]));
    }

    [Fact]
    public async Task A_naive_only_report_does_not_say_the_resilient_invariants_held()
    {
        var naive = new ModeReport(
            "naive", 1, 10, 5, new Dictionary<string, long>(), new Dictionary<string, long>(), new Dictionary<string, Measurement.Percentiles>(),
            [], [], [new InvariantResult("zero upload key collisions", false, "3 writes landed on another upload's key")], []);
        var report = new DrillReport(DateTimeOffset.UnixEpoch, "bash eng/drill.sh --mode naive", new Dictionary<string, string>(), new Dictionary<string, string>(), [naive]);
        var folder = Directory.CreateTempSubdirectory("resilience-drill-naive-").FullName;
        try
        {
            var ct = TestContext.Current.CancellationToken;
            Assert.Null(report.ResilientHeld);
            await ConsoleReport.WriteFileAsync(report, Path.Combine(folder, "summary.txt"), ct);
            await JsonReport.WriteAsync(report, Path.Combine(folder, "report.json"), ct);
            await HtmlReport.WriteAsync(report, new DrillSettings(), Path.Combine(folder, "report.html"), ct);

            var summary = await File.ReadAllTextAsync(Path.Combine(folder, "summary.txt"), ct);
            Assert.Contains("Resilient mode was not run (--mode naive)", summary, StringComparison.Ordinal);
            Assert.DoesNotContain("every invariant held", summary, StringComparison.Ordinal);
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "report.json"), ct));
            Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("resilientHeld").ValueKind);
            var html = await File.ReadAllTextAsync(Path.Combine(folder, "report.html"), ct);
            Assert.Contains("Resilient mode was not run (--mode naive)", html, StringComparison.Ordinal);
            Assert.DoesNotContain("every invariant held", html, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void AssertNoStackTrace(string output)
    {
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception:", output, StringComparison.Ordinal);
    }

    /// <summary>Runs the drill in a scratch folder with every server on a closed port; fails the test if it outlives <see cref="Limit"/>.</summary>
    private static async Task<(int ExitCode, string Output, TimeSpan Elapsed)> RunDrillAsync(string[] arguments, CancellationToken cancellationToken)
    {
        // The default --output folder, created by validation, lands in the scratch folder.
        var scratch = Directory.CreateTempSubdirectory("resilience-drill-cwd-").FullName;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Limit);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var (exitCode, output) = await ProcessRunner.RunAsync(
                scratch,
                new Dictionary<string, string> { ["RESILIENCE_PG"] = ClosedPostgres, ["RESILIENCE_PGBOUNCER"] = ClosedPostgres, ["RESILIENCE_REDIS"] = ClosedRedis },
                limit.Token,
                ["dotnet", Path.Combine(AppContext.BaseDirectory, "resilience-drill.dll"), .. arguments]);
            return (exitCode, output, Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"the drill ran for more than {Limit.TotalSeconds:0} s with {string.Join(' ', arguments)}");
            throw;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
