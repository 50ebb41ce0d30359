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
}
