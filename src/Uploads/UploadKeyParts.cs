namespace Resilience.Uploads;

/// <summary>The fields a key was built from, recovered exactly by <see cref="UploadKeyGenerator.Parse"/>.</summary>
public sealed class UploadKeyParts
{
    internal UploadKeyParts(UploadId id, IReadOnlyDictionary<string, string> fields, string? extension, string? contentType, string? partitionHash)
    {
        Id = id;
        Fields = fields;
        Extension = extension;
        ContentType = contentType;
        PartitionHash = partitionHash;
    }

    /// <summary>The upload id in the key.</summary>
    public UploadId Id { get; }

    /// <summary>The id's creation time in Unix milliseconds (equal to <c>{timestamp_ms}</c> when the template has it).</summary>
    public long UnixTimeMilliseconds => Id.UnixTimeMilliseconds;

    /// <summary>The caller-supplied field values, decoded when the template uses an encoding.</summary>
    public IReadOnlyDictionary<string, string> Fields { get; }

    /// <summary>The extension, or null when the template has no <c>{ext}</c>.</summary>
    public string? Extension { get; }

    /// <summary>The first allow-listed content type with that extension, or null when the template has no <c>{ext}</c>.</summary>
    public string? ContentType { get; }

    /// <summary>The partition hash, or null when the template has no <c>{hash}</c>.</summary>
    public string? PartitionHash { get; }

    /// <summary>The value of one field.</summary>
    /// <exception cref="KeyNotFoundException">The template has no such field.</exception>
    public string this[string field] => Fields[field];
}
