using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Resilience.Uploads.Ids;

namespace Resilience.Uploads;

/// <summary>
/// A 128-bit upload id in the UUIDv7 layout of RFC 9562: a 48-bit Unix millisecond timestamp, the version
/// nibble 7, 12 bits of <c>rand_a</c>, the variant bits <c>10</c> and 62 bits of <c>rand_b</c> (74 random bits).
/// </summary>
/// <remarks>
/// The text form is 26 characters of lowercase Crockford base32 (<c>0-9 a-z</c> without <c>i l o u</c>), which is
/// S3-safe and sorts lexicographically in the same order as the ids themselves, i.e. by creation time.
/// Ids come from <see cref="UploadIdGenerator"/>; <see cref="ToGuid"/> and <see cref="FromGuid(Guid)"/> convert
/// to and from a standard <see cref="Guid"/> (big-endian byte order, as RFC 9562 defines).
/// </remarks>
public readonly struct UploadId :
    IEquatable<UploadId>, IComparable<UploadId>, IComparable, ISpanFormattable, ISpanParsable<UploadId>
{
    /// <summary>Length of the text form: 26 characters.</summary>
    public const int TextLength = CrockfordBase32.Length128;

    /// <summary>
    /// The largest Unix millisecond timestamp an id holds: the last millisecond of the year 9999, the end of
    /// <see cref="DateTimeOffset"/>'s range, so that <see cref="Timestamp"/> is defined for every id. (The 48-bit field
    /// itself would reach the year 10889; ids past 9999 are refused when parsed.)
    /// </summary>
    public const long MaxUnixTimeMilliseconds = 253_402_300_799_999;

    /// <summary>Number of random bits in every id (<c>rand_a</c> + <c>rand_b</c>).</summary>
    public const int RandomBits = 74;

    internal static readonly UInt128 MaxRandom = (UInt128.One << RandomBits) - 1;

    private const ulong VersionMask = 0xF000;
    private const ulong Version7 = 0x7000;
    private const ulong VariantMask = 0xC000_0000_0000_0000;
    private const ulong VariantRfc = 0x8000_0000_0000_0000;
    private const ulong RandBMask = 0x3FFF_FFFF_FFFF_FFFF;

    private readonly ulong _hi;
    private readonly ulong _lo;

    private UploadId(ulong hi, ulong lo)
    {
        _hi = hi;
        _lo = lo;
    }

    /// <summary>Unix time in milliseconds from the 48-bit timestamp field.</summary>
    public long UnixTimeMilliseconds => (long)(_hi >> 16);

    /// <summary>The timestamp field as a <see cref="DateTimeOffset"/> (UTC).</summary>
    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(UnixTimeMilliseconds);

    /// <summary>True for <c>default(UploadId)</c>, which no generator produces.</summary>
    public bool IsEmpty => _hi == 0 && _lo == 0;

    internal ulong High => _hi;

    internal ulong Low => _lo;

    /// <summary>The 74 random bits as one number (rand_a above rand_b).</summary>
    internal UInt128 RandomPart => ((UInt128)(_hi & 0xFFF) << 62) | (_lo & RandBMask);

    /// <summary>Compares two ids in creation order.</summary>
    public static bool operator <(UploadId left, UploadId right) => left.CompareTo(right) < 0;

    /// <summary>Compares two ids in creation order.</summary>
    public static bool operator >(UploadId left, UploadId right) => left.CompareTo(right) > 0;

    /// <summary>Compares two ids in creation order.</summary>
    public static bool operator <=(UploadId left, UploadId right) => left.CompareTo(right) <= 0;

    /// <summary>Compares two ids in creation order.</summary>
    public static bool operator >=(UploadId left, UploadId right) => left.CompareTo(right) >= 0;

    /// <summary>True when both ids hold the same 128 bits.</summary>
    public static bool operator ==(UploadId left, UploadId right) => left.Equals(right);

    /// <summary>True when the ids differ.</summary>
    public static bool operator !=(UploadId left, UploadId right) => !left.Equals(right);

    /// <summary>Builds an id from its timestamp and its 74 random bits.</summary>
    internal static UploadId Create(long unixTimeMilliseconds, UInt128 random74)
    {
        var hi = ((ulong)unixTimeMilliseconds << 16) | Version7 | ((ulong)(random74 >> 62) & 0xFFF);
        var lo = VariantRfc | ((ulong)random74 & RandBMask);
        return new UploadId(hi, lo);
    }

    /// <summary>Converts a version 7, RFC-variant <see cref="Guid"/> into an <see cref="UploadId"/>.</summary>
    /// <param name="guid">A UUIDv7, e.g. from <see cref="Guid.CreateVersion7()"/> or <see cref="ToGuid"/>.</param>
    /// <exception cref="ArgumentException">
    /// The guid is not version 7 with the RFC 9562 variant, or its timestamp is past <see cref="MaxUnixTimeMilliseconds"/>.
    /// </exception>
    public static UploadId FromGuid(Guid guid)
    {
        Span<byte> bytes = stackalloc byte[16];
        guid.TryWriteBytes(bytes, bigEndian: true, out _);
        var hi = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        var lo = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        if (!HasV7Layout(hi, lo))
        {
            throw new ArgumentException(
                $"The guid {guid} is not a UUIDv7 (version nibble must be 7 and variant bits 10) with a timestamp up to the year 9999.",
                nameof(guid));
        }

        return new UploadId(hi, lo);
    }

    /// <summary>Parses the 26-character text form produced by <see cref="ToString()"/>.</summary>
    /// <exception cref="FormatException">The text is not a canonical upload id.</exception>
    public static UploadId Parse(string s) => Parse(s.AsSpan(), null);

    /// <summary>Parses the 26-character text form produced by <see cref="ToString()"/>.</summary>
    /// <exception cref="FormatException">The text is not a canonical upload id.</exception>
    public static UploadId Parse(ReadOnlySpan<char> s, IFormatProvider? provider) =>
        TryParse(s, out var id)
            ? id
            : throw new FormatException(
                "An upload id is 26 lowercase Crockford base32 characters (0-9 a-z without i l o u, first one 0-7) " +
                "holding a UUIDv7 (version 7, variant 10) with a timestamp up to the year 9999.");

    /// <inheritdoc cref="Parse(ReadOnlySpan{char}, IFormatProvider?)"/>
    public static UploadId Parse(string s, IFormatProvider? provider) => Parse(s.AsSpan(), provider);

    /// <summary>Tries to parse the canonical 26-character text form; uppercase or other spellings are refused.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out UploadId result)
    {
        if (CrockfordBase32.TryDecode(s, out var hi, out var lo) && HasV7Layout(hi, lo))
        {
            result = new UploadId(hi, lo);
            return true;
        }

        result = default;
        return false;
    }

    /// <inheritdoc cref="TryParse(ReadOnlySpan{char}, out UploadId)"/>
    public static bool TryParse([NotNullWhen(true)] string? s, out UploadId result) => TryParse(s.AsSpan(), out result);

    /// <inheritdoc/>
    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out UploadId result) => TryParse(s, out result);

    /// <inheritdoc/>
    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out UploadId result) =>
        TryParse(s.AsSpan(), out result);

    /// <summary>The same 128 bits as a <see cref="Guid"/> (a standard UUIDv7).</summary>
    public Guid ToGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, _hi);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], _lo);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>The 26-character lowercase Crockford base32 form.</summary>
    public override string ToString() =>
        string.Create(TextLength, this, static (span, id) => CrockfordBase32.Encode(id._hi, id._lo, span));

    /// <summary>The 26-character form; the format and provider are ignored.</summary>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <summary>Writes the 26-character form.</summary>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format = default, IFormatProvider? provider = null)
    {
        if (destination.Length < TextLength)
        {
            charsWritten = 0;
            return false;
        }

        CrockfordBase32.Encode(_hi, _lo, destination);
        charsWritten = TextLength;
        return true;
    }

    /// <inheritdoc/>
    public bool Equals(UploadId other) => _hi == other._hi && _lo == other._lo;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is UploadId other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_hi, _lo);

    /// <summary>Orders ids by their 128-bit value, i.e. by timestamp, then by the monotonic random part.</summary>
    public int CompareTo(UploadId other)
    {
        var c = _hi.CompareTo(other._hi);
        return c != 0 ? c : _lo.CompareTo(other._lo);
    }

    /// <inheritdoc/>
    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        UploadId other => CompareTo(other),
        _ => throw new ArgumentException($"Object must be of type {nameof(UploadId)}.", nameof(obj)),
    };

    private static bool HasV7Layout(ulong hi, ulong lo) =>
        (hi & VersionMask) == Version7 && (lo & VariantMask) == VariantRfc && (long)(hi >> 16) <= MaxUnixTimeMilliseconds;
}
