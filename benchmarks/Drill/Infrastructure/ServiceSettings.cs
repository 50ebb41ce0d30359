using System.Diagnostics;
using System.Net;
using Npgsql;
using StackExchange.Redis;

namespace Resilience.Drill.Infrastructure;

/// <summary>The three servers the drill talks to, and whether the drill started them itself.</summary>
internal sealed record ServiceSettings(string Postgres, string PgBouncer, string Redis, bool StartedLocally)
{
    /// <summary>How long <see cref="CheckReachableAsync"/> waits for each server.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(30);

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
            variables["RESILIENCE_PG"], variables["RESILIENCE_PGBOUNCER"], variables["RESILIENCE_REDIS"], StartedLocally: !wasRunning)
        {
            FromServicesScript = true,
        };
    }

    /// <summary>Whether the servers are the local ones of <c>eng/services.sh</c> (started by this run or already running).</summary>
    public bool FromServicesScript { get; init; }

    /// <summary>
    /// Opens one connection to each server before anything else touches them, so that an unreachable or misconfigured
    /// server stops the drill with its name (exit code 2) instead of an exception somewhere in the first mode.
    /// </summary>
    public async Task CheckReachableAsync(CancellationToken ct)
    {
        var failures = await Task.WhenAll(
            ProbeAsync("PostgreSQL (--pg / RESILIENCE_PG)", Postgres, PostgresEndpoint, OpenPostgresAsync, ct),
            ProbeAsync("PgBouncer (--pgbouncer / RESILIENCE_PGBOUNCER)", PgBouncer, PostgresEndpoint, OpenPostgresAsync, ct),
            ProbeAsync("Redis (--redis / RESILIENCE_REDIS)", Redis, RedisEndpoint, OpenRedisAsync, ct));
        if (failures.All(failure => failure is null))
        {
            return;
        }

        var advice = FromServicesScript
            ? "The local services of eng/services.sh did not answer: see `bash eng/services.sh status`."
            : "Set RESILIENCE_PG, RESILIENCE_PGBOUNCER and RESILIENCE_REDIS (or --pg, --pgbouncer and --redis) to servers that are up, "
              + "or unset all three to let the drill start local ones with eng/services.sh.";
        throw new DrillSetupException(string.Join(Environment.NewLine, failures.OfType<string>().Select(failure => "  " + failure).Append(advice)));
    }

    /// <summary>Null when <paramref name="open"/> connected; else one line naming the server, where it is and why it failed.</summary>
    private static async Task<string?> ProbeAsync(
        string server, string settings, Func<string, string?> endpoint, Func<string, CancellationToken, Task> open, CancellationToken ct)
    {
        var at = endpoint(settings) is { } address ? $" at {address}" : "";
        try
        {
            await open(settings, ct).WaitAsync(ProbeTimeout, ct);
            return null;
        }
        catch (TimeoutException error) when (error.GetType() == typeof(TimeoutException)) // WaitAsync's, not a client's own
        {
            return $"{server}{at} did not answer within {ProbeTimeout.TotalSeconds:0} s";
        }
        catch (RedisConnectionException error)
        {
            // Its message goes on to advise abortConnect=false, which would only hide the failure.
            return $"{server}{at} is not reachable: {error.FailureType}";
        }
        catch (Exception error) when (!ct.IsCancellationRequested)
        {
            return $"{server}{at} is not reachable: {Errors.Describe(error)}";
        }
    }

    private static async Task OpenPostgresAsync(string connectionString, CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(ct);
    }

    private static async Task OpenRedisAsync(string configuration, CancellationToken ct)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = true;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
    }

    // Only host and port: the settings themselves may hold a password.
    private static string? PostgresEndpoint(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            return $"{builder.Host}:{builder.Port}";
        }
        catch (Exception error) when (error is ArgumentException or KeyNotFoundException or FormatException or InvalidCastException or OverflowException)
        {
            return null;
        }
    }

    private static string? RedisEndpoint(string configuration)
    {
        try
        {
            return string.Join(", ", ConfigurationOptions.Parse(configuration).EndPoints.Select(endpoint => endpoint switch
            {
                DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
                _ => endpoint.ToString(),
            }));
        }
        catch (ArgumentException)
        {
            return null;
        }
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

/// <summary>Exceptions as one line for the terminal: no stack trace, inner causes appended.</summary>
internal static class Errors
{
    /// <summary>"Failed to connect to 127.0.0.1:1 (Connection refused)": the message, then each distinct inner message.</summary>
    public static string Describe(Exception error)
    {
        var messages = new List<string> { error.Message };
        for (var inner = error.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!messages.Contains(inner.Message, StringComparer.Ordinal))
            {
                messages.Add(inner.Message);
            }
        }

        return messages.Count == 1 ? messages[0] : $"{messages[0]} ({string.Join("; ", messages.Skip(1))})";
    }
}
