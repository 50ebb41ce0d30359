namespace Resilience.TestSupport;

/// <summary>
/// A test needed a real service that could not be reached. The message names the service,
/// where it was looked for, and the command that starts it.
/// </summary>
public sealed class ServiceUnavailableException(ServiceEndpoint endpoint, Exception inner)
    : Exception(BuildMessage(endpoint, inner), inner)
{
    public ServiceEndpoint Endpoint { get; } = endpoint;

    private static string BuildMessage(ServiceEndpoint endpoint, Exception inner)
    {
        var source = endpoint.FromEnvironment
            ? $"from {endpoint.Variable}"
            : $"default; {endpoint.Variable} is not set";
        // StackExchange.Redis goes on to advise abortConnect=false, which would only hide the failure: its failure type says enough.
        var why = inner is StackExchange.Redis.RedisConnectionException redis ? $"{redis.FailureType}." : inner.Message;
        return $"{endpoint.Service} is not reachable at '{endpoint.Redacted}' ({source}): {why} " +
               $"Start the local services with `{ServiceEndpoints.StartCommand}` " +
               $"or point {endpoint.Variable} at a running {endpoint.Service}.";
    }
}
