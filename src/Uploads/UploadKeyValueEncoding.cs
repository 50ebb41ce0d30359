namespace Resilience.Uploads;

/// <summary>What happens to a field value that has characters outside the S3-safe set.</summary>
public enum UploadKeyValueEncoding
{
    /// <summary>
    /// Default: the value is refused with an <see cref="InvalidUploadKeyValueException"/> naming the field and the rule.
    /// Nothing is rewritten.
    /// </summary>
    Reject,

    /// <summary>
    /// The caller opts in to an explicit, reversible encoding: every UTF-8 byte outside
    /// <c>0-9 a-z A-Z - _ * ' ( )</c> (so also <c>.</c> and <c>!</c>) becomes <c>!XX</c> (uppercase hex).
    /// The encoded value is S3-safe, cannot hold <c>/</c> or <c>..</c>, and parses back to the exact original.
    /// Empty values, lone surrogates and keys over 1,024 bytes are still refused.
    /// </summary>
    Escape,
}
