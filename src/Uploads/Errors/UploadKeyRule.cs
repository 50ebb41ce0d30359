namespace Resilience.Uploads;

/// <summary>The rule an upload-key value broke.</summary>
public enum UploadKeyRule
{
    /// <summary>The value is null or empty.</summary>
    Empty,

    /// <summary>The value has a character outside <c>0-9 a-z A-Z ! - _ . * ' ( )</c> (including any non-ASCII look-alike).</summary>
    UnsafeCharacter,

    /// <summary>The value has a path separator (<c>/</c> or <c>\</c>).</summary>
    PathSeparator,

    /// <summary>The value has a control character (C0, DEL or C1).</summary>
    ControlCharacter,

    /// <summary>The value has <c>..</c> or is a lone <c>.</c>, which path-based tools read as a directory step.</summary>
    DotSegment,

    /// <summary>The value, or the whole key, is longer than 1,024 UTF-8 bytes.</summary>
    TooLong,

    /// <summary>The content type is not in the allow-list, so no extension can be chosen.</summary>
    UnknownContentType,

    /// <summary>A value was given for a field the template does not have.</summary>
    UnknownField,

    /// <summary>The template has a field for which no value was given.</summary>
    MissingField,

    /// <summary>Two values were given for one field.</summary>
    DuplicateField,

    /// <summary>A timestamp is before 1970-01-01, where UUIDv7 timestamps begin.</summary>
    TimestampOutOfRange,

    /// <summary>The value is not valid UTF-16 (a lone surrogate), so it has no exact UTF-8 form.</summary>
    InvalidUnicode,

    /// <summary>
    /// A value was given with a null or empty field name; <see cref="InvalidUploadKeyValueException.Field"/> is its position,
    /// e.g. <c>fields[1]</c>.
    /// </summary>
    EmptyFieldName,
}
