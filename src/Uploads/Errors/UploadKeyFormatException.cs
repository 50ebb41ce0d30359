namespace Resilience.Uploads;

/// <summary>A key does not have the shape of the template it was parsed with.</summary>
public sealed class UploadKeyFormatException : UploadKeyException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">Why the key does not match.</param>
    /// <param name="position">Index in the key where matching failed.</param>
    public UploadKeyFormatException(string reason, int position)
        : base($"The key does not match the template at index {position}: {reason}")
    {
        Reason = reason;
        Position = position;
    }

    /// <summary>Why the key does not match.</summary>
    public string Reason { get; }

    /// <summary>Index in the key where matching failed.</summary>
    public int Position { get; }
}
