namespace Resilience.Caching.Internal;

/// <summary>One single-flight load: its result for every waiter, and the frame of the flow that runs its factory.</summary>
/// <typeparam name="TValue">The value type.</typeparam>
internal sealed class LoadFlight<TValue>(LoadFrame frame) : TaskCompletionSource<TValue>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public LoadFrame Frame { get; } = frame;
}
