namespace Resilience.Uploads;

/// <summary>Base class of every error this package throws for bad input, templates or keys.</summary>
public abstract class UploadKeyException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected UploadKeyException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
