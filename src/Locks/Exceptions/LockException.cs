namespace Resilience.Locks;

/// <summary>The base of every exception this package throws on purpose.</summary>
public abstract class LockException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="resource">The resource concerned, when known.</param>
    /// <param name="message">What happened and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    protected LockException(string? resource, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Resource = resource;
    }

    /// <summary>The resource the operation was about, when known.</summary>
    public string? Resource { get; }
}
