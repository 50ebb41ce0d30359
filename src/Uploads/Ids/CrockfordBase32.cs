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
        // Last 12 characters come from the low 60 bits of lo; the middle ones straddle hi and lo.
        var value = ((UInt128)hi << 64) | lo;
        for (var i = Length128 - 1; i >= 0; i--)
        {
            destination[i] = Alphabet[(int)((ulong)value & 31)];
            value >>= 5;
        }
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

    public static bool IsDigit(char c) => c < 128 && Decode[c] >= 0;

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
