namespace Resilience.Uploads;

/// <summary>Settings of one key template. Validated once: by <see cref="UploadKeyGenerator"/>'s constructor, or at start under DI.</summary>
public sealed class UploadKeyOptions
{
    /// <summary>
    /// The built-in allow-list used when <see cref="ContentTypes"/> is empty: <c>image/jpeg</c> → <c>jpg</c>,
    /// <c>image/png</c> → <c>png</c>, <c>image/webp</c> → <c>webp</c>, <c>image/gif</c> → <c>gif</c>,
    /// <c>image/heic</c> → <c>heic</c>, <c>image/heif</c> → <c>heif</c>, <c>image/avif</c> → <c>avif</c>,
    /// <c>application/pdf</c> → <c>pdf</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> DefaultContentTypes { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["image/jpeg"] = "jpg",
        ["image/png"] = "png",
        ["image/webp"] = "webp",
        ["image/gif"] = "gif",
        ["image/heic"] = "heic",
        ["image/heif"] = "heif",
        ["image/avif"] = "avif",
        ["application/pdf"] = "pdf",
    };

    /// <summary>
    /// The key template. Required. Placeholders: <c>{uuid}</c> (required: the monotonic id, 26 characters),
    /// <c>{timestamp_ms}</c> (the id's Unix milliseconds, at least 13 digits), <c>{ext}</c> (from the content type),
    /// <c>{hash}</c> or <c>{hash:N}</c> (N = 1..16 hex characters, default 4, for partition spreading) and every name in
    /// <see cref="Fields"/>. Example: <c>{class_id}/{student_id}/{timestamp_ms}_{uuid}.{ext}</c>.
    /// </summary>
    public string Template { get; set; } = string.Empty;

    /// <summary>
    /// The caller-supplied fields the template uses, e.g. <c>class_id</c>, <c>student_id</c> (lowercase snake_case).
    /// A placeholder neither built in nor declared here is refused. Default: none.
    /// </summary>
    public IList<string> Fields { get; set; } = new List<string>();

    /// <summary>
    /// Allow-list of content types (case-insensitive, parameters after ';' ignored) to extensions
    /// (1-16 characters of <c>a-z 0-9</c>). Empty (the default) means <see cref="DefaultContentTypes"/>.
    /// </summary>
    public IDictionary<string, string> ContentTypes { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>What to do with field values outside the safe characters. Default <see cref="UploadKeyValueEncoding.Reject"/>.</summary>
    public UploadKeyValueEncoding ValueEncoding { get; set; } = UploadKeyValueEncoding.Reject;

    /// <summary>
    /// Secret key (at least 16 characters) of the HMAC-SHA256 that turns an attempt id into an upload id in
    /// <see cref="UploadKeyGenerator.CreateForAttempt"/>. Set it (the same on every instance) so nobody who can choose attempt
    /// ids can compute ids in advance. Default null: the template text is the key, which still gives the same key on every
    /// instance for a retry.
    /// </summary>
    public string? AttemptSecret { get; set; }
}
