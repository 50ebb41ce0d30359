namespace Resilience.Uploads;

/// <summary>A key template or its options are invalid; <see cref="Problems"/> lists every problem found.</summary>
public sealed class UploadKeyTemplateException : UploadKeyException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="template">The template text.</param>
    /// <param name="problems">Every problem found, one sentence each.</param>
    public UploadKeyTemplateException(string template, IReadOnlyList<string> problems)
        : base($"The upload key template \"{template}\" is invalid: {string.Join(" ", problems)}")
    {
        Template = template;
        Problems = problems;
    }

    /// <summary>The template text.</summary>
    public string Template { get; }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<string> Problems { get; }
}
