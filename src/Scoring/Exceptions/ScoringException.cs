namespace Resilience.Scoring;

/// <summary>The base of every error this package raises on purpose. Catch a subclass to act on one case.</summary>
public abstract class ScoringException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened and what to do.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    protected ScoringException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
