using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;

namespace Resilience.Caching;

/// <summary>
/// The <see cref="ICacheEntry"/> of <see cref="CappedMemoryCache"/>: filled in by the caller and written into the cache
/// when disposed (only if <see cref="Value"/> was set), as <c>MemoryCache</c> does.
/// </summary>
internal sealed class CappedMemoryCacheEntry : ICacheEntry
{
    private readonly CappedMemoryCache _owner;
    private TimeSpan? _relative;
    private TimeSpan? _sliding;
    private long? _size;
    private object? _value;
    private bool _valueSet;
    private bool _committed;
    private List<IChangeToken>? _tokens;
    private List<PostEvictionCallbackRegistration>? _callbacks;

    public CappedMemoryCacheEntry(object key, CappedMemoryCache owner)
    {
        Key = key;
        _owner = owner;
    }

    public object Key { get; }

    public object? Value
    {
        get => _value;
        set
        {
            _value = value;
            _valueSet = true;
        }
    }

    public DateTimeOffset? AbsoluteExpiration { get; set; }

    public TimeSpan? AbsoluteExpirationRelativeToNow
    {
        get => _relative;
        set
        {
            if (value is { } v)
            {
                ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(v, TimeSpan.Zero, nameof(AbsoluteExpirationRelativeToNow));
            }

            _relative = value;
        }
    }

    public TimeSpan? SlidingExpiration
    {
        get => _sliding;
        set
        {
            if (value is { } v)
            {
                ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(v, TimeSpan.Zero, nameof(SlidingExpiration));
            }

            _sliding = value;
        }
    }

    public IList<IChangeToken> ExpirationTokens => _tokens ??= [];

    public IList<PostEvictionCallbackRegistration> PostEvictionCallbacks => _callbacks ??= [];

    /// <summary>Accepted for compatibility; eviction is strictly least recently used, priorities are not used.</summary>
    public CacheItemPriority Priority { get; set; } = CacheItemPriority.Normal;

    /// <summary>The entry's weight against <see cref="CacheOptions.WeightCap"/>; an entry without a size counts as 1. Negative sizes are refused on commit.</summary>
    public long? Size
    {
        get => _size;
        set => _size = value;
    }

    internal long Weight => _size ?? 1;

    internal bool TokenFired { get; set; }

    /// <summary>Change-token registrations, disposed when the entry leaves so the tokens stop referencing it.</summary>
    internal List<IDisposable>? TokenRegistrations { get; set; }

    internal IReadOnlyList<IChangeToken>? Tokens => _tokens;

    internal IReadOnlyList<PostEvictionCallbackRegistration>? Callbacks => _callbacks;

    public void Dispose()
    {
        if (_committed)
        {
            return;
        }

        _committed = true;
        if (_valueSet)
        {
            _owner.Commit(this);
        }
    }
}
