using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Resilience.Drill.Infrastructure;
using Resilience.Drill.Measurement;
using Resilience.Drill.Reporting;
using Resilience.Drill.Simulation;
using Resilience.Drill.Stacks;
using Spectre.Console;
using Spectre.Console.Cli;
using StackExchange.Redis;

namespace Resilience.Drill;

/// <summary>
/// The spike drill: replays <c>--writers</c> concurrent writers through the resilient stack and then through the
/// incident's naive stack, on real PostgreSQL + pgvector, PgBouncer and Redis, and reports what held.
/// Exit code 0 when every invariant held in resilient mode, 1 when one broke, 2 when the drill could not run.
/// </summary>
[Description(
    "Replays a spike of concurrent writers through the resilient stack (the five packages), then through the incident's naive stack, " +
    "on real PostgreSQL + pgvector, PgBouncer and Redis, and reports which invariants held. Exit code: 0 when every invariant held " +
    "in resilient mode (or --mode naive, which gates nothing), 1 when one broke, 2 when the drill could not run " +
    "(bad arguments, unreachable servers, an unusable --output).")]
internal sealed class DrillCommand : AsyncCommand<DrillSettings>
{
    /// <summary>How the drill is run: the name in its help, usage and recorded command line.</summary>
    public const string ApplicationName = "bash eng/drill.sh";

    /// <summary>The options whose values may hold passwords: recorded and printed as ***.</summary>
    private static readonly string[] SecretOptions = ["--pg", "--pgbouncer", "--redis"];

    public override async Task<int> ExecuteAsync(CommandContext context, DrillSettings settings, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        static void Log(string message) => AnsiConsole.MarkupLineInterpolated($"[grey]drill:[/] {message}");

        ServiceSettings services;
        try
        {
            services = await ServiceSettings.ResolveAsync(settings, Log, cancellationToken);
        }
        catch (DrillSetupException error)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]drill could not start its servers:[/] {error.Message}");
            return 2;
        }

        try
        {
            try
            {
                await services.CheckReachableAsync(cancellationToken);
            }
            catch (DrillSetupException error)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]drill could not reach its servers:[/]{Environment.NewLine}{error.Message}");
                return 2;
            }

            var report = await RunAsync(settings, services, startedAt, CommandLine(context.Arguments), Log, cancellationToken);
            ConsoleReport.Write(report);
            Directory.CreateDirectory(settings.Output);
            var json = Path.Combine(settings.Output, "drill-report.json");
            var html = Path.Combine(settings.Output, "drill-report.html");
            await JsonReport.WriteAsync(report, json, cancellationToken);
            var summary = Path.Combine(settings.Output, "drill-summary.txt");
            await HtmlReport.WriteAsync(report, settings, html, cancellationToken);
            await ConsoleReport.WriteFileAsync(report, summary, cancellationToken);
            Log($"reports written: {Path.GetFullPath(summary)}, {Path.GetFullPath(json)}, {Path.GetFullPath(html)}");
            return report.ResilientHeld is false ? 1 : 0;
        }
        finally
        {
            await services.StopIfStartedAsync(Log);
        }
    }

    /// <summary>
    /// The command as run, for the report: the values of <c>--pg</c>, <c>--pgbouncer</c> and <c>--redis</c> (connection
    /// strings, which may hold passwords) replaced by ***.
    /// </summary>
    internal static string CommandLine(IReadOnlyList<string> arguments)
    {
        var words = new List<string> { ApplicationName };
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            var separator = argument.IndexOfAny(['=', ':']);
            var name = separator > 0 ? argument[..separator] : argument;
            if (!SecretOptions.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                words.Add(argument);
            }
            else if (separator > 0)
            {
                words.Add(string.Concat(argument.AsSpan(0, separator + 1), "***"));
            }
            else
            {
                words.Add(argument);
                if (i + 1 < arguments.Count)
                {
                    words.Add("***");
                    i++;
                }
            }
        }

        return string.Join(' ', words);
    }

    private static async Task<DrillReport> RunAsync(
        DrillSettings settings, ServiceSettings services, DateTimeOffset startedAt, string commandLine, Action<string> log,
        CancellationToken cancellationToken)
    {
        await Documents.EnsureAsync(services.Postgres, cancellationToken);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(services.Redis);
        await using var signals = await DrillSignals.CreateAsync(settings, services, cancellationToken);
        var monitor = new SignalMonitor(settings, signals.Server, signals.Memory);

        var modes = new List<ModeReport>();
        if (settings.RunsResilient)
        {
            log($"resilient stack: {settings.Writers:N0} writers for {settings.DurationSeconds:0} s");
            await using var stack = new ResilientStack(settings, services, redis);
            modes.Add(await RunModeAsync(settings, stack, monitor, cancellationToken));
        }

        if (settings.RunsNaive)
        {
            // Let the resilient run's garbage go before the naive run measures its own memory growth.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            log($"naive stack (the incident's): {settings.Writers:N0} writers for {settings.DurationSeconds:0} s");
            await using var stack = new NaiveStack(settings, services, redis, signals.Limits);
            modes.Add(await RunModeAsync(settings, stack, monitor, cancellationToken));
        }

        return new DrillReport(startedAt, commandLine, Describe(settings), await DescribeEnvironmentAsync(signals, cancellationToken), modes);
    }

    private static async Task<ModeReport> RunModeAsync(
        DrillSettings settings, ISubmissionStack stack, SignalMonitor monitor, CancellationToken cancellationToken)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
        {
            return await new ModeRunner(settings, stack, monitor, new PlainProgressView()).RunAsync(cancellationToken);
        }

        var table = LiveProgressView.CreateTable();
        ModeReport? report = null;
        await AnsiConsole.Live(table).StartAsync(async live =>
            report = await new ModeRunner(settings, stack, monitor, new LiveProgressView(live, table)).RunAsync(cancellationToken));
        return report!;
    }

    private static Dictionary<string, string> Describe(DrillSettings settings) => typeof(DrillSettings).GetProperties()
        .Where(p => p.GetCustomAttributes(typeof(CommandOptionAttribute), false).Length > 0 && p.Name is not ("Postgres" or "PgBouncer" or "Redis"))
        .ToDictionary(p => p.Name, p => Convert.ToString(p.GetValue(settings), CultureInfo.InvariantCulture) ?? "");

    private static async Task<Dictionary<string, string>> DescribeEnvironmentAsync(DrillSignals signals, CancellationToken cancellationToken) => new()
    {
        ["machine"] = $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024 * 1024)} GiB",
        ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        ["postgres"] = await signals.ServerVersionAsync(cancellationToken),
        ["max_connections"] = signals.Limits.MaxConnections.ToString(CultureInfo.InvariantCulture),
        ["connections_admitted_to_ordinary_roles"] = signals.Server.AdmittedConnections.ToString(CultureInfo.InvariantCulture),
        ["drill_process_id"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
        ["stopwatch_resolution_ns"] = (1_000_000_000.0 / Stopwatch.Frequency).ToString("0.#", CultureInfo.InvariantCulture),
    };
}
