namespace Resilience.Drill.Simulation;

/// <summary>A clock stopped at one instant: a whole class uploading "in the same millisecond".</summary>
internal sealed class FrozenTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
