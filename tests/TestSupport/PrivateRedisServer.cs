using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Resilience.TestSupport;

/// <summary>
/// A private, throw-away <c>redis-server</c> on a free loopback port, without persistence, for tests that must kill or
/// restart Redis (never the shared one). Start with <see cref="StartAsync"/>; <see cref="DisposeAsync"/> kills it.
/// </summary>
public sealed class PrivateRedisServer : IAsyncDisposable
{
    private const string Executable = "redis-server";
    private readonly string[] _extraArguments;
    private Process? _process;

    private PrivateRedisServer(int port, string[] extraArguments)
    {
        Port = port;
        _extraArguments = extraArguments;
    }

    /// <summary>The loopback port it listens on (kept across restarts).</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string for it.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Whether the server process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts a server on a free loopback port and waits until it answers PING.</summary>
    /// <param name="extraArguments">More <c>redis-server</c> arguments, e.g. <c>--cluster-enabled yes</c>.</param>
    public static async Task<PrivateRedisServer> StartAsync(params string[] extraArguments)
    {
        var server = new PrivateRedisServer(FreeLoopbackPort(), extraArguments);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>A free TCP port on 127.0.0.1 (free at the time of asking).</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Starts the server again on the same port (after <see cref="KillAsync"/>), empty, and waits until it answers.</summary>
    public async Task StartAgainAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"The private Redis on port {Port} is already running.");
        }

        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--save", string.Empty, "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
                     "--dir", Path.GetTempPath(), "--dbfilename", $"resilience-private-{Port}.rdb",
                 }.Concat(_extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null.");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new InvalidOperationException(
                $"Could not start a private '{Executable}' for this test: {ex.Message}. Install it with `{ServiceEndpoints.StartCommand}` " +
                "(it installs redis-server) or `apt-get install redis-server`.", ex);
        }

        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilAnsweringAsync();
    }

    /// <summary>Kills the server with SIGKILL (no persistence, so its data is gone) and waits for it to exit.</summary>
    public async Task KillAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>Kills the server and starts it again, empty, on the same port.</summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        await StartAgainAsync();
    }

    /// <summary>Connects a new multiplexer that survives restarts of this server.</summary>
    /// <param name="configure">Adjusts the configuration before connecting.</param>
    public async Task<ConnectionMultiplexer> ConnectAsync(Action<ConfigurationOptions>? configure = null)
    {
        var options = ConfigurationOptions.Parse(Configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;
        options.ConnectRetry = 3;
        options.AllowAdmin = true;
        configure?.Invoke(options);
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    private async Task WaitUntilAnsweringAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_process is null || _process.HasExited)
            {
                throw new InvalidOperationException($"The private redis-server on port {Port} exited at start (exit code {_process?.ExitCode}).");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer);
                if (read > 0 && buffer[0] == (byte)'+')
                {
                    return;
                }
            }
            catch (SocketException ex)
            {
                last = ex;
            }

            await Task.Delay(25);
        }

        throw new InvalidOperationException($"The private redis-server on port {Port} did not answer PING within 10 s.", last);
    }
}
