namespace Resilience.Uploads.Ids;

/// <summary>
/// Lowercase Crockford base32 for 128-bit values: 26 characters, alphabet in ASCII order, so the
/// fixed-width text sorts exactly like the number it encodes.
/// </summary>
internal static class CrockfordBase32
{
    /// <summary>Characters needed for 128 bits (26 x 5 = 130; the first character carries 3 bits).</summary>
    public const int Length128 = 26;

    /// <summary>The alphabet: digits, then lowercase letters without i, l, o and u, in ASCII order.</summary>
    public const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    private static readonly sbyte[] Decode = BuildDecodeTable();

    public static void Encode(ulong hi, ulong lo, Span<char> destination)
    {
        // 130 bits = 2 + 128: characters 14-25 take lo's low 60 bits, characters 2-13 the next 60 bits
        // ((hi << 4) | (lo >> 60)), characters 0-1 hi's top 8 bits (the first character holds only 3 of them).
        _ = destination[Length128 - 1];
        var alphabet = Alphabet;
        var low = lo;
        for (var i = Length128 - 1; i >= 14; i--)
        {
            destination[i] = alphabet[(int)(low & 31)];
            low >>= 5;
        }

        var middle = (hi << 4) | (lo >> 60);
        for (var i = 13; i >= 2; i--)
        {
            destination[i] = alphabet[(int)(middle & 31)];
            middle >>= 5;
        }

        destination[1] = alphabet[(int)((hi >> 56) & 31)];
        destination[0] = alphabet[(int)(hi >> 61)];
    }

    public static bool TryDecode(ReadOnlySpan<char> text, out ulong hi, out ulong lo)
    {
        hi = 0;
        lo = 0;
        if (text.Length != Length128)
        {
            return false;
        }

        UInt128 value = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var digit = c < 128 ? Decode[c] : (sbyte)-1;
            if (digit < 0 || (i == 0 && digit > 7))
            {
                return false;
            }

            value = (value << 5) | (uint)digit;
        }

        hi = (ulong)(value >> 64);
        lo = (ulong)value;
        return true;
    }

    private static sbyte[] BuildDecodeTable()
    {
        var table = new sbyte[128];
        Array.Fill(table, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++)
        {
            table[Alphabet[i]] = (sbyte)i;
        }

        return table;
    }
}
