using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Resilience.Caching;

/// <summary>
/// An <see cref="IMemoryCache"/> backed by <see cref="LruCache{TKey, TValue}"/>: call sites that inject
/// <see cref="IMemoryCache"/> keep working (<c>TryGetValue</c>, <c>Set</c>, <c>GetOrCreate</c>, entry options, <c>Remove</c>)
/// and get a strict entry cap and weight cap (<c>Size</c>) that admit the newest entry and evict the least recently used.
/// </summary>
/// <remarks>
/// An entry without any expiration gets the cache's <see cref="CacheOptions.TimeToLive"/> (default 5 minutes), not
/// "never". <see cref="ICacheEntry.Priority"/> is ignored. Post-eviction callbacks run on the writing thread after the
/// write completes.
/// </remarks>
public sealed class CappedMemoryCache : IMemoryCache
{
    private readonly LruCache<object, CappedMemoryCacheEntry> _cache;
    private readonly ILogger _logger;

    /// <summary>Creates the adapter.</summary>
    /// <param name="options">Limits and default expiry; validated here.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the <c>Resilience.Caching</c> meter.</param>
    /// <param name="logger">Logs failures of post-eviction callbacks.</param>
    /// <exception cref="CacheOptionsException">The options are invalid; every problem is listed.</exception>
    public CappedMemoryCache(CappedMemoryCacheOptions options, TimeProvider? timeProvider = null, IMeterFactory? meterFactory = null, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _cache = new LruCache<object, CappedMemoryCacheEntry>(options, static (_, entry) => entry.Weight, timeProvider, meterFactory, _logger, null);
        _cache.Evicted += OnEvicted;
    }

    /// <summary>Entries held now, never more than <see cref="CacheOptions.Capacity"/>.</summary>
    public int Count => _cache.Count;

    /// <summary>The sum of the held entries' sizes, never more than <see cref="CacheOptions.WeightCap"/>.</summary>
    public long TotalWeight => _cache.TotalWeight;

    internal LruCache<object, CappedMemoryCacheEntry> Inner => _cache;

    /// <summary>Purges expired entries now.</summary>
    /// <returns>How many were purged.</returns>
    public int TrimExpired() => _cache.TrimExpired();

    /// <inheritdoc />
    public ICacheEntry CreateEntry(object key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new CappedMemoryCacheEntry(key, this);
    }

    /// <inheritdoc />
    public bool TryGetValue(object key, out object? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_cache.TryGetValue(key, out var entry))
        {
            value = entry.Value;
            return true;
        }

        value = null;
        return false;
    }

    /// <inheritdoc />
    public void Remove(object key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _cache.Remove(key);
    }

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();

    internal void Commit(CappedMemoryCacheEntry entry)
    {
        var tokens = entry.Tokens;
        if (tokens is not null)
        {
            foreach (var token in tokens)
            {
                if (token.HasChanged)
                {
                    // MemoryCache drops an entry whose token already fired; the old value goes too.
                    entry.TokenFired = true;
                    _cache.Remove(entry.Key);
                    InvokeCallbacks(entry, EvictionReason.TokenExpired);
                    return;
                }
            }
        }

        var options = entry.AbsoluteExpiration is null && entry.AbsoluteExpirationRelativeToNow is null && entry.SlidingExpiration is null
            ? null
            : new CacheEntryOptions
            {
                AbsoluteExpiration = entry.AbsoluteExpiration,
                TimeToLive = entry.AbsoluteExpirationRelativeToNow,
                SlidingExpiration = entry.SlidingExpiration,
            };
        _cache.Set(entry.Key, entry, options);

        if (tokens is not null)
        {
            var registrations = new List<IDisposable>(tokens.Count);
            entry.TokenRegistrations = registrations;
            foreach (var token in tokens)
            {
                registrations.Add(token.RegisterChangeCallback(
                    static state =>
                    {
                        var (cache, fired) = ((CappedMemoryCache, CappedMemoryCacheEntry))state!;
                        fired.TokenFired = true;
                        cache._cache.RemoveIfSame(fired.Key, fired);
                    },
                    (this, entry)));
            }
        }
    }

    private void OnEvicted(object? sender, CacheEvictedEventArgs<object, CappedMemoryCacheEntry> args)
    {
        var reason = args.Reason switch
        {
            CacheEvictionReason.Capacity or CacheEvictionReason.Weight => EvictionReason.Capacity,
            CacheEvictionReason.Expired => EvictionReason.Expired,
            CacheEvictionReason.Replaced => EvictionReason.Replaced,
            _ when args.Value.TokenFired => EvictionReason.TokenExpired,
            _ => EvictionReason.Removed,
        };
        if (args.Value.TokenRegistrations is { } registrations)
        {
            args.Value.TokenRegistrations = null;
            foreach (var registration in registrations)
            {
                registration.Dispose();
            }
        }

        InvokeCallbacks(args.Value, reason);
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A user callback must not break the cache's write.")]
    private void InvokeCallbacks(CappedMemoryCacheEntry entry, EvictionReason reason)
    {
        if (entry.Callbacks is not { } callbacks)
        {
            return;
        }

        foreach (var registration in callbacks)
        {
            try
            {
                registration.EvictionCallback?.Invoke(entry.Key, entry.Value, reason, registration.State);
            }
            catch (Exception exception)
            {
                Internal.Log.EvictionHandlerFailed(_logger, exception, _cache.Name, CacheEvictionReason.Removed);
            }
        }
    }
}
