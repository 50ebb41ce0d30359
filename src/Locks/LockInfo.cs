namespace Resilience.Locks;

/// <summary>What Redis records about a held lock (never the token).</summary>
/// <param name="Resource">The resource.</param>
/// <param name="OwnerId">The owner id the holder recorded.</param>
/// <param name="TimeToLive">Time left on the lease, or <see langword="null"/> when the key has no expiry.</param>
/// <param name="FencingToken">The fencing token of the latest grant of this resource.</param>
public sealed record LockInfo(string Resource, string OwnerId, TimeSpan? TimeToLive, long FencingToken);
