using System.Text;

namespace Resilience.Uploads.Templates;

/// <summary>S3's safe characters and the checks and encoding built on them.</summary>
internal static class SafeCharacters
{
    /// <summary>The longest key S3 accepts, in UTF-8 bytes; every character a key holds here is ASCII.</summary>
    public const int MaxKeyLength = 1024;

    /// <summary>Human-readable list, for messages.</summary>
    public const string Description = "0-9 a-z A-Z ! - _ . * ' ( )";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>True for <c>0-9 a-z A-Z ! - _ . * ' ( )</c>.</summary>
    public static bool IsSafe(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '!' or '-' or '_' or '.' or '*' or '\'' or '(' or ')';

    /// <summary>Safe characters that the escape encoding keeps as they are (not <c>.</c> nor <c>!</c>).</summary>
    public static bool IsKeptByEscape(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '*' or '\'' or '(' or ')';

    /// <summary>Checks a raw value under <see cref="UploadKeyValueEncoding.Reject"/>.</summary>
    public static bool TryCheckRaw(ReadOnlySpan<char> value, out UploadKeyRule rule, out int index)
    {
        index = -1;
        if (!HasKeySize(value, out rule))
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (IsSafe(c))
            {
                if (c == '.' && i + 1 < value.Length && value[i + 1] == '.')
                {
                    rule = UploadKeyRule.DotSegment;
                    index = i;
                    return false;
                }

                continue;
            }

            index = i;
            rule = c is '/' or '\\' ? UploadKeyRule.PathSeparator
                : char.IsControl(c) ? UploadKeyRule.ControlCharacter
                : UploadKeyRule.UnsafeCharacter;
            return false;
        }

        if (value is ".")
        {
            rule = UploadKeyRule.DotSegment;
            index = 0;
            return false;
        }

        rule = default;
        return true;
    }

    /// <summary>
    /// Checks a value under <see cref="UploadKeyValueEncoding.Escape"/> and returns its encoded length.
    /// </summary>
    public static bool TryMeasureEscaped(ReadOnlySpan<char> value, out int encodedLength, out UploadKeyRule rule, out int index)
    {
        encodedLength = 0;
        index = -1;
        if (!HasKeySize(value, out rule))
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (IsKeptByEscape(c))
            {
                encodedLength += 1;
            }
            else if (c < 0x80)
            {
                encodedLength += 3;
            }
            else if (c < 0x800)
            {
                encodedLength += 6;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                encodedLength += 12;
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                rule = UploadKeyRule.InvalidUnicode;
                index = i;
                return false;
            }
            else
            {
                encodedLength += 9;
            }
        }

        if (encodedLength > MaxKeyLength)
        {
            // Escaping triples every byte it encodes: the value alone would not fit in a key.
            rule = UploadKeyRule.TooLong;
            return false;
        }

        rule = default;
        return true;
    }

    /// <summary>Writes the escaped form of a value checked by <see cref="TryMeasureEscaped"/>.</summary>
    public static int WriteEscaped(ReadOnlySpan<char> value, Span<char> destination)
    {
        Span<byte> utf8 = stackalloc byte[4];
        var pos = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (IsKeptByEscape(c))
            {
                destination[pos++] = c;
                continue;
            }

            var length = char.IsHighSurrogate(c) ? 2 : 1;
            var bytes = StrictUtf8.GetBytes(value.Slice(i, length), utf8);
            i += length - 1;
            foreach (var b in utf8[..bytes])
            {
                destination[pos++] = '!';
                destination[pos++] = HexUpper(b >> 4);
                destination[pos++] = HexUpper(b & 0xF);
            }
        }

        return pos;
    }

    /// <summary>Decodes an escaped value; false when it is not well formed.</summary>
    public static bool TryUnescape(ReadOnlySpan<char> encoded, out string? value)
    {
        value = null;
        var bytes = new byte[encoded.Length];
        var count = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (IsKeptByEscape(c))
            {
                bytes[count++] = (byte)c;
            }
            else if (c == '!' && i + 2 < encoded.Length && TryHex(encoded[i + 1], out var high) && TryHex(encoded[i + 2], out var low))
            {
                bytes[count++] = (byte)((high << 4) | low);
                i += 2;
            }
            else
            {
                return false;
            }
        }

        try
        {
            value = StrictUtf8.GetString(bytes, 0, count);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>True when the text is valid UTF-16 (no lone surrogate).</summary>
    public static bool IsValidUtf16(ReadOnlySpan<char> text, out int index)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                index = i;
                return false;
            }
        }

        index = -1;
        return true;
    }

    /// <summary>Strict UTF-8 byte count of valid UTF-16.</summary>
    public static int Utf8Length(ReadOnlySpan<char> text) => StrictUtf8.GetByteCount(text);

    /// <summary>Strict UTF-8 bytes of valid UTF-16.</summary>
    public static int WriteUtf8(ReadOnlySpan<char> text, Span<byte> destination) => StrictUtf8.GetBytes(text, destination);

    /// <summary>The first check of every value: not empty, and not longer than a whole key may be (<paramref name="rule"/> is meaningful when false).</summary>
    private static bool HasKeySize(ReadOnlySpan<char> value, out UploadKeyRule rule)
    {
        rule = value.IsEmpty ? UploadKeyRule.Empty : UploadKeyRule.TooLong;
        return !value.IsEmpty && value.Length <= MaxKeyLength;
    }

    private static char HexUpper(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'A' + nibble - 10);

    private static bool TryHex(char c, out int value)
    {
        value = c is >= '0' and <= '9' ? c - '0' : c is >= 'A' and <= 'F' ? c - 'A' + 10 : -1;
        return value >= 0;
    }
}
