namespace Resilience.Pooling;

/// <summary>The names of the pools registered with <c>AddPostgresPool</c>, in registration order.</summary>
internal sealed class PostgresPoolRegistry
{
    public List<string> Names { get; } = [];
}
