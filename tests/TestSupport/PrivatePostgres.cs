using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Resilience.TestSupport;

/// <summary>
/// A throwaway PostgreSQL 15 cluster for tests that must restart or kill a server: initialised under /tmp as the
/// <c>postgres</c> OS user, listening on a free loopback port only, with pgvector created in its database (pgvector is
/// installed machine-wide). <see cref="DisposeAsync"/> stops it and deletes its directory. Never touches the shared server.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private readonly string _directory;
    private readonly string _dataDirectory;
    private bool _disposed;

    private PrivatePostgres(string directory, int port)
    {
        _directory = directory;
        _dataDirectory = Path.Combine(directory, "data");
        Port = port;
    }

    /// <summary>The loopback port the cluster listens on.</summary>
    public int Port { get; }

    /// <summary>A connection string for the cluster's <c>postgres</c> database as the <c>postgres</c> superuser (trust auth on loopback).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Database=postgres;Username=postgres;Timeout=5";

    /// <summary>Initialises and starts a new cluster and creates the <c>vector</c> extension.</summary>
    public static async Task<PrivatePostgres> StartAsync(int maxConnections = 50, CancellationToken cancellationToken = default)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"resilience-private-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var instance = new PrivatePostgres(directory, FreeLoopbackPort());
        try
        {
            await RunAsync("chown", ["-R", "postgres:postgres", directory], asPostgres: false, cancellationToken);
            await RunAsync($"{BinDirectory}/initdb",
                ["-D", instance._dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                asPostgres: true, cancellationToken);
            await File.AppendAllTextAsync(Path.Combine(instance._dataDirectory, "postgresql.conf"),
                $"\nlisten_addresses = '127.0.0.1'\nport = {instance.Port}\nunix_socket_directories = '{directory}'\n" +
                $"max_connections = {maxConnections}\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
                cancellationToken);
            await instance.StartServerAsync(cancellationToken);

            await using var connection = new NpgsqlConnection(instance.ConnectionString + ";Pooling=false");
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return instance;
        }
        catch
        {
            await instance.DisposeAsync();
            throw;
        }
    }

    /// <summary>Restarts the server (fast shutdown: every connection is terminated) and waits until it accepts connections again.</summary>
    public Task RestartAsync(CancellationToken cancellationToken = default) =>
        RunAsync($"{BinDirectory}/pg_ctl", ["-D", _dataDirectory, "-m", "fast", "-w", "-t", "60", "-l", LogFile, "restart"], asPostgres: true, cancellationToken);

    /// <summary>Stops the server and deletes the cluster.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (File.Exists(Path.Combine(_dataDirectory, "postmaster.pid")))
            {
                await RunAsync($"{BinDirectory}/pg_ctl", ["-D", _dataDirectory, "-m", "immediate", "-w", "-t", "60", "stop"], asPostgres: true, CancellationToken.None);
            }
        }
        finally
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private string LogFile => Path.Combine(_directory, "server.log");

    private Task StartServerAsync(CancellationToken cancellationToken) =>
        RunAsync($"{BinDirectory}/pg_ctl", ["-D", _dataDirectory, "-w", "-t", "60", "-l", LogFile, "start"], asPostgres: true, cancellationToken);

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string program, string[] arguments, bool asPostgres, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo
        {
            FileName = asPostgres ? "setpriv" : program,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var part in new[] { "--reuid=postgres", "--regid=postgres", "--init-groups", "--", program })
            {
                start.ArgumentList.Add(part);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{program} {string.Join(' ', arguments)}' exited with {process.ExitCode}: {await error} {await output}");
        }
    }
}
