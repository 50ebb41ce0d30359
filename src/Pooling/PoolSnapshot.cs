namespace Resilience.Pooling;

/// <summary>A point-in-time view of a <see cref="PostgresPool"/>.</summary>
/// <param name="MaxSize">The most physical connections the pool opens.</param>
/// <param name="Busy">Slots leased, opening or being retired.</param>
/// <param name="Idle">Slots free to rent (with or without an open physical connection).</param>
/// <param name="PhysicalConnections">Slots whose physical connection is known to be open.</param>
/// <param name="Waiters">Callers waiting.</param>
/// <param name="LongestHold">How long the oldest current lease has been held.</param>
public sealed record PoolSnapshot(int MaxSize, int Busy, int Idle, int PhysicalConnections, int Waiters, TimeSpan LongestHold);
