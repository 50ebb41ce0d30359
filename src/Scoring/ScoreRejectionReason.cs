namespace Resilience.Scoring;

/// <summary>Why an input was refused before any SQL ran.</summary>
public enum ScoreRejectionReason
{
    /// <summary>The value (or the event itself) was <see langword="null"/>.</summary>
    Null = 1,

    /// <summary>The value was NaN.</summary>
    NotANumber,

    /// <summary>The value was positive or negative infinity.</summary>
    Infinity,

    /// <summary>The value was outside the configured range.</summary>
    OutOfRange,

    /// <summary>An id was empty or only white space.</summary>
    Empty,

    /// <summary>An id or the source was longer than <see cref="ScoringOptions.MaxIdLength"/>, or a batch larger than <see cref="ScoringOptions.MaxBatchSize"/>.</summary>
    TooLong,

    /// <summary>A string contained a NUL character, which PostgreSQL text cannot store.</summary>
    InvalidCharacter,

    /// <summary>The <see cref="ScoreChangeKind"/> was not a defined value.</summary>
    UnknownKind,

    /// <summary>The expected version was negative.</summary>
    Negative,

    /// <summary>
    /// A string was not well-formed UTF-16: it held a lone (unpaired) surrogate, which has no UTF-8 encoding, so PostgreSQL
    /// text cannot store it.
    /// </summary>
    InvalidText,

    /// <summary>
    /// The value cannot be stored exactly: its shortest round-trip decimal form has more than
    /// <see cref="ScoringOptions.MaxSignificantDigits"/> significant digits or more than <see cref="ScoringOptions.MaxDecimalPlaces"/>
    /// digits after the decimal point (for example 0.1 + 0.2 = 0.30000000000000004, or a non-zero magnitude below 1e-12).
    /// </summary>
    TooPrecise,
}
