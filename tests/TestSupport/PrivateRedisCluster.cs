using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace Resilience.TestSupport;

/// <summary>
/// A private three-master Redis Cluster on free loopback ports (no replicas, no persistence), built from the same
/// <c>redis-server</c>/<c>redis-cli</c> as the shared Redis. <see cref="DisposeAsync"/> kills the nodes and deletes their files.
/// </summary>
public sealed class PrivateRedisCluster : IAsyncDisposable
{
    private readonly List<PrivateRedisServer> _nodes = [];
    private readonly List<string> _files = [];

    private PrivateRedisCluster()
    {
    }

    /// <summary>The nodes.</summary>
    public IReadOnlyList<PrivateRedisServer> Nodes => _nodes;

    /// <summary>A StackExchange.Redis configuration string naming every node.</summary>
    public string Configuration => string.Join(',', _nodes.Select(n => n.Configuration));

    /// <summary>Starts three masters, joins them with <c>redis-cli --cluster create</c> and waits for <c>cluster_state:ok</c>.</summary>
    public static async Task<PrivateRedisCluster> StartAsync(int masters = 3)
    {
        var cluster = new PrivateRedisCluster();
        try
        {
            for (var i = 0; i < masters; i++)
            {
                var file = $"resilience-nodes-{Guid.NewGuid():N}.conf";
                cluster._files.Add(Path.Combine(Path.GetTempPath(), file));
                cluster._nodes.Add(await PrivateRedisServer.StartAsync(
                    "--cluster-enabled", "yes", "--cluster-config-file", file, "--cluster-node-timeout", "2000"));
            }

            var create = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            create.ArgumentList.Add("--cluster");
            create.ArgumentList.Add("create");
            foreach (var node in cluster._nodes)
            {
                create.ArgumentList.Add(node.Configuration);
            }

            create.ArgumentList.Add("--cluster-replicas");
            create.ArgumentList.Add("0");
            create.ArgumentList.Add("--cluster-yes");
            using (var process = Process.Start(create)!)
            {
                var output = process.StandardOutput.ReadToEndAsync();
                var error = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
                if (process.ExitCode != 0)
                {
                    throw new InvalidOperationException($"redis-cli --cluster create failed ({process.ExitCode}): {await output} {await error}");
                }
            }

            await cluster.WaitUntilOkAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Connects a cluster-aware multiplexer.</summary>
    public async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var options = ConfigurationOptions.Parse(Configuration);
        options.AbortOnConnectFail = false;
        options.AllowAdmin = true;
        options.ConnectTimeout = 5000;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        foreach (var file in _files)
        {
            File.Delete(file);
        }
    }

    private async Task WaitUntilOkAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        await using var redis = await ConnectAsync();
        while (DateTime.UtcNow < deadline)
        {
            var ok = true;
            foreach (var node in _nodes)
            {
                var info = (string?)await redis.GetServer(node.Configuration).ExecuteAsync("CLUSTER", "INFO");
                ok &= info?.Contains("cluster_state:ok", StringComparison.Ordinal) == true
                      && info.Contains(string.Create(CultureInfo.InvariantCulture, $"cluster_known_nodes:{_nodes.Count}"), StringComparison.Ordinal);
            }

            if (ok)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("The private Redis Cluster did not reach cluster_state:ok within 30 s.");
    }
}
