using System.Text.Json;
using Resilience.TestSupport;

namespace Resilience.Drill.Tests;

/// <summary>
/// A short drill on the real services: the resilient stack must hold every invariant (exit code 0) and the naive stack
/// must break them, which proves the drill's checks can fail.
/// </summary>
public sealed class DrillSmokeTests(ServiceFixture services)
{
    [Fact]
    public async Task A_small_drill_holds_in_resilient_mode_breaks_in_naive_mode_and_writes_both_reports()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = Directory.CreateTempSubdirectory("resilience-drill-").FullName;
        try
        {
            var environment = new Dictionary<string, string>
            {
                ["RESILIENCE_PG"] = await services.PostgresAsync(),
                ["RESILIENCE_PGBOUNCER"] = await services.PgBouncerAsync(),
                ["RESILIENCE_REDIS"] = await services.RedisConfigurationAsync(),
            };
            var (exitCode, log) = await ProcessRunner.RunAsync(AppContext.BaseDirectory, environment, ct,
                "dotnet", Path.Combine(AppContext.BaseDirectory, "resilience-drill.dll"),
                "--writers", "150", "--duration", "8", "--ramp", "1", "--think", "0.5-1.5", "--class-burst", "2",
                "--fault-ai", "0.1", "--fault-force-quit", "0.05", "--fault-null-score", "0.05", "--output", output);

            Assert.True(exitCode == 0, $"the drill exited with {exitCode}:{Environment.NewLine}{log}");
            Assert.True(File.Exists(Path.Combine(output, "drill-report.html")), "the HTML report was written");
            var summary = await File.ReadAllTextAsync(Path.Combine(output, "drill-summary.txt"), ct);
            Assert.Contains("zero upload key collisions", summary);
            Assert.Contains("Resilient mode: every invariant held.", summary);
            Assert.DoesNotContain("\u001b[", summary); // plain text, no terminal colour codes
            var html = await File.ReadAllTextAsync(Path.Combine(output, "drill-report.html"), ct);
            Assert.Contains("<svg", html);
            Assert.DoesNotContain("<script", html);
            Assert.DoesNotContain("http://", html);
            Assert.DoesNotContain("https://", html);

            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "drill-report.json"), ct));
            var modes = json.RootElement.GetProperty("modes").EnumerateArray().ToDictionary(m => m.GetProperty("mode").GetString()!);
            var resilient = modes["resilient"];
            var naive = modes["naive"];

            Assert.True(resilient.GetProperty("completed").GetInt64() > 0, "the resilient stack completed submissions");
            Assert.All(resilient.GetProperty("invariants").EnumerateArray(), invariant =>
                Assert.True(invariant.GetProperty("held").GetBoolean(), invariant.GetProperty("detail").GetString()));

            var broken = naive.GetProperty("invariants").EnumerateArray()
                .Where(i => !i.GetProperty("held").GetBoolean())
                .Select(i => i.GetProperty("name").GetString())
                .ToList();
            Assert.Contains("zero upload key collisions", broken);
            Assert.Contains("every null score rejected", broken);
            Assert.Contains("no lock left held", broken);
            Assert.Contains("fleet budget fits the server", broken);
            Assert.True(naive.GetProperty("signals").GetArrayLength() > 0, "the naive run sampled its signals");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
