using System.Globalization;

namespace Resilience.Scoring;

/// <summary>
/// The one conversion from an input <see cref="double"/> to the <see cref="decimal"/> the store writes. A value is taken as its
/// shortest round-trip decimal form (what <c>value.ToString("R")</c> prints, the decimal that reads back as the same double) and is
/// accepted only when that form has at most <see cref="ScoringOptions.MaxSignificantDigits"/> significant digits and
/// <see cref="ScoringOptions.MaxDecimalPlaces"/> digits after the decimal point. Then the stored number is exactly that decimal,
/// reading it back gives the same double, and no sum of scores in range ever exceeds what <see cref="decimal"/> holds.
/// Nothing is ever rounded: a value outside the rule is refused.
/// </summary>
internal static class ExactScore
{
    /// <summary>Converts <paramref name="value"/> (finite, |value| &lt; 1e16) when it follows the rule.</summary>
    /// <param name="value">The input.</param>
    /// <param name="exact">The decimal to store, when the result is <see langword="true"/>.</param>
    /// <param name="significantDigits">Significant digits of the shortest round-trip form.</param>
    /// <param name="decimalPlaces">Digits after the decimal point of the shortest round-trip form.</param>
    /// <returns>Whether the value can be stored exactly.</returns>
    public static bool TryConvert(double value, out decimal exact, out int significantDigits, out int decimalPlaces)
    {
        exact = 0m;
        Span<char> buffer = stackalloc char[40];
        if (!double.IsFinite(value) || !value.TryFormat(buffer, out var written, "R", CultureInfo.InvariantCulture))
        {
            significantDigits = decimalPlaces = int.MaxValue;
            return false;
        }

        var text = buffer[..written];
        var mantissa = text;
        var exponent = 0;
        var e = text.IndexOfAny('E', 'e');
        if (e >= 0)
        {
            exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = text[..e];
        }

        var point = mantissa.IndexOf('.');
        var fractionDigits = point < 0 ? 0 : mantissa.Length - point - 1;
        decimalPlaces = Math.Max(0, fractionDigits - exponent);

        Span<char> digits = stackalloc char[mantissa.Length];
        var count = 0;
        foreach (var c in mantissa)
        {
            if (char.IsAsciiDigit(c))
            {
                digits[count++] = c;
            }
        }

        significantDigits = digits[..count].Trim('0').Length;
        if (significantDigits > ScoringOptions.MaxSignificantDigits || decimalPlaces > ScoringOptions.MaxDecimalPlaces
            || Math.Abs(value) >= 1e16
            || !decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out exact))
        {
            exact = 0m;
            return false;
        }

        if (exact == 0m)
        {
            exact = 0m; // no negative zero
        }

        return true;
    }

    /// <summary>The decimal for a value that already passed validation.</summary>
    /// <param name="value">A validated value or bound.</param>
    /// <returns>The exact decimal.</returns>
    public static decimal ToDecimal(double value) =>
        TryConvert(value, out var exact, out _, out _)
            ? exact
            : throw new InvalidOperationException($"The score {value.ToString("R", CultureInfo.InvariantCulture)} was not validated before conversion.");
}
