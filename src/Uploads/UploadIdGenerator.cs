using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.Uploads.Telemetry;

namespace Resilience.Uploads;

/// <summary>
/// Produces <see cref="UploadId"/>s that are strictly increasing for the life of this instance, from any number
/// of threads, even when many ids fall in one millisecond or the clock steps backwards.
/// </summary>
/// <remarks>
/// <para>
/// Method: RFC 9562 section 6.2, method 2 ("monotonic random"). The first id of a new millisecond gets 74 fresh
/// random bits from <see cref="RandomNumberGenerator"/>. Every further id whose clock reading is not later than the
/// last id's timestamp (same millisecond, or a clock that went backwards) keeps the last timestamp and adds a random
/// increment of 1 to 2^32 to the 74-bit random part. If that would overflow, the timestamp moves one millisecond
/// ahead of the clock and the random part is drawn afresh, so order is never broken.
/// </para>
/// <para>
/// After a backwards step the ids keep the last timestamp (ahead of the clock) until the clock catches up; each step
/// back is logged once and counted in <c>resilience.uploads.id.clock_regressions</c>.
/// Use one instance per process (<see cref="Shared"/>, or the singleton registered by <c>AddUploadKeys</c>):
/// order is guaranteed only among ids of one instance.
/// </para>
/// </remarks>
public sealed partial class UploadIdGenerator
{
    private const int PoolSize = 512;

    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Counter<long>? _clockRegressions;
    private readonly Lock _lock = new();
    private readonly byte[] _pool = new byte[PoolSize];
    private int _poolPosition = PoolSize;
    private long _lastTimestamp = -1;
    private long _lastClockReading = long.MinValue;
    private UInt128 _random;

    /// <summary>Creates a generator on the given clock (default <see cref="TimeProvider.System"/>).</summary>
    /// <param name="timeProvider">The clock; inject a fake one in tests.</param>
    /// <param name="logger">Receives a warning each time the clock steps backwards.</param>
    public UploadIdGenerator(TimeProvider? timeProvider = null, ILogger<UploadIdGenerator>? logger = null)
        : this(timeProvider, logger, metrics: null)
    {
    }

    internal UploadIdGenerator(TimeProvider? timeProvider, ILogger? logger, UploadMetrics? metrics)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _clockRegressions = metrics?.ClockRegressions;
    }

    /// <summary>A process-wide generator on the system clock.</summary>
    public static UploadIdGenerator Shared { get; } = new();

    /// <summary>The timestamp of the last id handed out (-1 before the first): the next id's is never smaller.</summary>
    internal long LastTimestamp => Volatile.Read(ref _lastTimestamp);

    /// <summary>The clock this generator reads.</summary>
    public TimeProvider TimeProvider => _timeProvider;

    /// <summary>Returns an id greater than every id this instance returned before.</summary>
    /// <exception cref="InvalidOperationException">The timestamp range is exhausted (after the year 9999).</exception>
    public UploadId Next()
    {
        long regression = 0;
        long kept = 0;
        UploadId id;
        lock (_lock)
        {
            var clock = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            if (clock < _lastClockReading)
            {
                regression = _lastClockReading - clock;
                kept = _lastTimestamp;
            }

            _lastClockReading = clock;
            var now = Math.Clamp(clock, 0, UploadId.MaxUnixTimeMilliseconds);
            if (now > _lastTimestamp)
            {
                _lastTimestamp = now;
                _random = NextRandom74();
            }
            else
            {
                _random += NextIncrement();
                if (_random > UploadId.MaxRandom)
                {
                    if (_lastTimestamp >= UploadId.MaxUnixTimeMilliseconds)
                    {
                        throw new InvalidOperationException("The id timestamp range (up to the end of the year 9999) is exhausted.");
                    }

                    _lastTimestamp++;
                    _random = NextRandom74();
                }
            }

            id = UploadId.Create(_lastTimestamp, _random);
        }

        if (regression > 0)
        {
            _clockRegressions?.Add(1);
            LogClockStepBack(_logger, regression, kept);
        }

        return id;
    }

    private UInt128 NextRandom74()
    {
        var high = NextUInt64() & 0x3FF; // 10 bits
        var low = NextUInt64();          // 64 bits
        return ((UInt128)high << 64) | low;
    }

    private ulong NextIncrement() => (NextUInt64() & 0xFFFF_FFFF) + 1;

    private ulong NextUInt64()
    {
        if (_poolPosition > PoolSize - sizeof(ulong))
        {
            RandomNumberGenerator.Fill(_pool);
            _poolPosition = 0;
        }

        var value = BinaryPrimitives.ReadUInt64LittleEndian(_pool.AsSpan(_poolPosition));
        _poolPosition += sizeof(ulong);
        return value;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "The clock stepped back by {Milliseconds} ms; upload ids keep timestamp {KeptUnixMilliseconds} and stay increasing until the clock catches up.")]
    private static partial void LogClockStepBack(ILogger logger, long milliseconds, long keptUnixMilliseconds);
}
