namespace Resilience.Uploads;

/// <summary>
/// A caller-supplied value (a field, the content type, an attempt id) breaks a rule. Nothing was created.
/// </summary>
public sealed class InvalidUploadKeyValueException : UploadKeyException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="field">The field, e.g. <c>student_id</c>, <c>content_type</c>, <c>attempt_id</c> or <c>key</c> for the whole key.</param>
    /// <param name="rule">The rule broken.</param>
    /// <param name="message">What happened and what to change.</param>
    /// <param name="index">Index of the first offending character, when there is one.</param>
    public InvalidUploadKeyValueException(string field, UploadKeyRule rule, string message, int? index = null)
        : base(message)
    {
        Field = field;
        Rule = rule;
        Index = index;
    }

    /// <summary>The field whose value was refused.</summary>
    public string Field { get; }

    /// <summary>The rule broken.</summary>
    public UploadKeyRule Rule { get; }

    /// <summary>Index (in UTF-16 code units) of the first offending character, when there is one.</summary>
    public int? Index { get; }
}
