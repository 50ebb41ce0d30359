using System.Net;
using System.Net.Sockets;
using Resilience.TestSupport;

namespace Resilience.Harness.Tests;

/// <summary>A wrong port must fail loudly, naming the service, the variable and the command that starts it.</summary>
public sealed class UnreachableServiceTests
{
    [Fact]
    public async Task Wrong_postgres_port_fails_with_a_message_naming_the_service_and_the_start_command()
    {
        var endpoint = ServiceEndpoints.Postgres.WithConnectionString(
            $"Host=127.0.0.1;Port={UnusedPort()};Database=resilience;Username=resilience;Password=s3cret-value");

        var error = await Assert.ThrowsAsync<ServiceUnavailableException>(
            () => ServiceProbe.CheckPostgresAsync(endpoint, TestContext.Current.CancellationToken));

        Assert.StartsWith("PostgreSQL is not reachable at", error.Message);
        Assert.Contains("RESILIENCE_PG", error.Message);
        Assert.Contains("bash eng/services.sh up", error.Message);
        Assert.DoesNotContain("s3cret-value", error.Message);
    }

    [Fact]
    public async Task Wrong_redis_port_fails_with_a_message_naming_the_service_and_the_start_command()
    {
        var endpoint = ServiceEndpoints.Redis.WithConnectionString($"127.0.0.1:{UnusedPort()},password=s3cret-value");

        var error = await Assert.ThrowsAsync<ServiceUnavailableException>(() => ServiceProbe.ConnectRedisAsync(endpoint));

        Assert.StartsWith("Redis is not reachable at", error.Message);
        Assert.Contains("RESILIENCE_REDIS", error.Message);
        Assert.Contains("bash eng/services.sh up", error.Message);
        Assert.DoesNotContain("s3cret-value", error.Message);
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
