using System.Collections.Concurrent;

namespace Resilience.Drill.Simulation;

/// <summary>
/// Stands in for the bucket: records which upload wrote each key. Two different uploads writing one key is a collision
/// (in the incident, concurrent multipart uploads to one key left 0-byte files). A retry of the same upload is not.
/// </summary>
internal sealed class ObjectStore
{
    private readonly ConcurrentDictionary<string, string> _owners = new(StringComparer.Ordinal);
    private long _writes;
    private long _collisions;

    public long Writes => Interlocked.Read(ref _writes);

    public long Collisions => Interlocked.Read(ref _collisions);

    public long DistinctKeys => _owners.Count;

    /// <param name="key">The object key.</param>
    /// <param name="upload">Who is writing: submission and page (the same for a retry of the same upload).</param>
    public void Put(string key, string upload)
    {
        Interlocked.Increment(ref _writes);
        var owner = _owners.GetOrAdd(key, upload);
        if (!string.Equals(owner, upload, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _collisions);
        }
    }

    public void Clear()
    {
        _owners.Clear();
        Interlocked.Exchange(ref _writes, 0);
        Interlocked.Exchange(ref _collisions, 0);
    }
}
