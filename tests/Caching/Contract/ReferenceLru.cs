using Resilience.Caching;

namespace Resilience.Caching.Tests.Contract;

/// <summary>
/// The tiny reference the model-based test compares against: a list in recency order (front = least recent), written
/// to be obviously right rather than fast.
/// </summary>
public sealed class ReferenceLru
{
    private readonly List<Entry> _entries = [];
    private readonly int _capacity;
    private readonly long _weightCap;
    private readonly long _ttl;
    private readonly bool _sliding;

    public ReferenceLru(int capacity, long? weightCap, long ttl, bool sliding)
    {
        _capacity = capacity;
        _weightCap = weightCap ?? long.MaxValue;
        _ttl = ttl;
        _sliding = sliding;
    }

    public long Now { get; set; }

    public int Count => _entries.Count;

    public long TotalWeight => _entries.Sum(e => e.Weight);

    public bool TryGet(string key, out string? value)
    {
        var index = _entries.FindIndex(e => e.Key == key);
        if (index < 0 || Now >= _entries[index].ExpiresAt)
        {
            value = null;
            return false;
        }

        var entry = _entries[index];
        _entries.RemoveAt(index);
        if (_sliding)
        {
            entry = entry with { ExpiresAt = Now + _ttl };
        }

        _entries.Add(entry);
        value = entry.Value;
        return true;
    }

    /// <summary>Returns the evictions, or null when the write is refused as too heavy.</summary>
    public List<(string, CacheEvictionReason)>? Set(string key, string value, long weight)
    {
        if (weight > _weightCap)
        {
            return null;
        }

        var evicted = new List<(string, CacheEvictionReason)>();
        var index = _entries.FindIndex(e => e.Key == key);
        if (index >= 0)
        {
            _entries.RemoveAt(index);
            evicted.Add((key, CacheEvictionReason.Replaced));
        }

        evicted.AddRange(Purge());
        while (_entries.Count >= _capacity)
        {
            evicted.Add((_entries[0].Key, CacheEvictionReason.Capacity));
            _entries.RemoveAt(0);
        }

        while (TotalWeight + weight > _weightCap)
        {
            evicted.Add((_entries[0].Key, CacheEvictionReason.Weight));
            _entries.RemoveAt(0);
        }

        _entries.Add(new Entry(key, value, weight, Now + _ttl));
        return evicted;
    }

    public List<(string, CacheEvictionReason)> Remove(string key)
    {
        var evicted = new List<(string, CacheEvictionReason)>();
        var index = _entries.FindIndex(e => e.Key == key);
        if (index >= 0)
        {
            _entries.RemoveAt(index);
            evicted.Add((key, CacheEvictionReason.Removed));
        }

        evicted.AddRange(Purge());
        return evicted;
    }

    public List<(string, CacheEvictionReason)> Purge()
    {
        var expired = _entries.Where(e => e.ExpiresAt <= Now).Select(e => (e.Key, CacheEvictionReason.Expired)).ToList();
        _entries.RemoveAll(e => e.ExpiresAt <= Now);
        return expired;
    }

    private sealed record Entry(string Key, string Value, long Weight, long ExpiresAt);
}
