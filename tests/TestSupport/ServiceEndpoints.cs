namespace Resilience.TestSupport;

/// <summary>
/// Where the real services are: the <c>RESILIENCE_*</c> environment variables when set,
/// otherwise the loopback defaults that <c>eng/services.sh up</c> starts.
/// </summary>
public static class ServiceEndpoints
{
    public const string StartCommand = "bash eng/services.sh up";

    public static ServiceEndpoint Postgres { get; } = From(
        "PostgreSQL", "RESILIENCE_PG",
        "Host=127.0.0.1;Port=55432;Database=resilience;Username=resilience;Password=resilience");

    public static ServiceEndpoint PgBouncer { get; } = From(
        "PgBouncer", "RESILIENCE_PGBOUNCER",
        "Host=127.0.0.1;Port=56432;Database=resilience;Username=resilience;Password=resilience");

    public static ServiceEndpoint Redis { get; } = From("Redis", "RESILIENCE_REDIS", "127.0.0.1:56379");

    private static ServiceEndpoint From(string service, string variable, string fallback)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrWhiteSpace(value)
            ? new ServiceEndpoint(service, variable, fallback, FromEnvironment: false)
            : new ServiceEndpoint(service, variable, value, FromEnvironment: true);
    }
}

/// <summary>One service's connection setting and where it came from.</summary>
public sealed record ServiceEndpoint(string Service, string Variable, string ConnectionString, bool FromEnvironment)
{
    /// <summary>The setting with any password removed, safe for messages.</summary>
    public string Redacted => ConnectionStrings.Redact(ConnectionString);

    public ServiceEndpoint WithConnectionString(string connectionString) => this with { ConnectionString = connectionString };
}
