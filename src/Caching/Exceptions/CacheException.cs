namespace Resilience.Caching;

/// <summary>The base of every error this package raises for bad input or misuse (such as a factory loading its own key); catch it to handle them all.</summary>
public abstract class CacheException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened and what to change.</param>
    protected CacheException(string message)
        : base(message)
    {
    }
}
