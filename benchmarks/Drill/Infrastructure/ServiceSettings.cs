using System.Diagnostics;

namespace Resilience.Drill.Infrastructure;

/// <summary>The three servers the drill talks to, and whether the drill started them itself.</summary>
internal sealed record ServiceSettings(string Postgres, string PgBouncer, string Redis, bool StartedLocally)
{
    /// <summary>
    /// Options first, then the RESILIENCE_* variables; when neither names a server, runs <c>eng/services.sh up</c>
    /// (which installs and starts PostgreSQL + pgvector, PgBouncer and Redis on loopback) and uses what it prints.
    /// </summary>
    public static async Task<ServiceSettings> ResolveAsync(DrillSettings settings, Action<string> log, CancellationToken ct)
    {
        var pg = settings.Postgres ?? Environment.GetEnvironmentVariable("RESILIENCE_PG");
        var bouncer = settings.PgBouncer ?? Environment.GetEnvironmentVariable("RESILIENCE_PGBOUNCER");
        var redis = settings.Redis ?? Environment.GetEnvironmentVariable("RESILIENCE_REDIS");
        if (!string.IsNullOrWhiteSpace(pg) && !string.IsNullOrWhiteSpace(bouncer) && !string.IsNullOrWhiteSpace(redis))
        {
            log("using the servers given by options / RESILIENCE_* (starting nothing)");
            return new ServiceSettings(pg, bouncer, redis, StartedLocally: false);
        }

        if (!string.IsNullOrWhiteSpace(pg) || !string.IsNullOrWhiteSpace(bouncer) || !string.IsNullOrWhiteSpace(redis))
        {
            throw new DrillSetupException(
                "Give all three servers (--pg, --pgbouncer, --redis or RESILIENCE_PG, RESILIENCE_PGBOUNCER, RESILIENCE_REDIS), or none to start the local ones.");
        }

        var script = Path.Combine(FindRepositoryRoot(), "eng", "services.sh");
        var wasRunning = await RunScriptAsync(script, "status", ct) is { ExitCode: 0 };
        log(wasRunning ? "local services already running" : "starting local services (eng/services.sh up)");
        var up = await RunScriptAsync(script, "up", ct);
        if (up.ExitCode != 0)
        {
            throw new DrillSetupException($"eng/services.sh up failed with exit code {up.ExitCode}:{Environment.NewLine}{up.Error}");
        }

        var variables = up.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.StartsWith("export ", StringComparison.Ordinal))
            .Select(line => line["export ".Length..].Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1].Trim('"'));
        return new ServiceSettings(
            variables["RESILIENCE_PG"], variables["RESILIENCE_PGBOUNCER"], variables["RESILIENCE_REDIS"], StartedLocally: !wasRunning);
    }

    /// <summary>Stops the local services when this run started them.</summary>
    public async Task StopIfStartedAsync(Action<string> log)
    {
        if (!StartedLocally)
        {
            return;
        }

        log("stopping the local services this run started (eng/services.sh down)");
        await RunScriptAsync(Path.Combine(FindRepositoryRoot(), "eng", "services.sh"), "down", CancellationToken.None);
    }

    private static string FindRepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "eng", "services.sh")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new DrillSetupException(
            "No server settings were given and eng/services.sh was not found above the current folder. Run the drill from the repository, or set RESILIENCE_PG, RESILIENCE_PGBOUNCER and RESILIENCE_REDIS.");
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunScriptAsync(string script, string verb, CancellationToken ct)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(verb);
        using var process = Process.Start(start) ?? throw new DrillSetupException("could not start bash");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return (process.ExitCode, await output, await error);
    }
}

/// <summary>The drill could not set up its servers or tables; nothing was measured.</summary>
internal sealed class DrillSetupException(string message) : Exception(message);
