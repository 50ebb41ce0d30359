using System.Diagnostics;

namespace Resilience.Drill.Measurement;

/// <summary>
/// Rolling p95 of lock hold times over a window, for the naive stack, which has no hold-time watch of its own
/// (the resilient stack reads the one in Resilience.Locks).
/// </summary>
internal sealed class HoldWindow(TimeSpan window, double alertSeconds)
{
    private readonly Queue<(long At, double Seconds)> _samples = new();
    private readonly Lock _gate = new();

    public void Add(double seconds)
    {
        lock (_gate)
        {
            _samples.Enqueue((Stopwatch.GetTimestamp(), seconds));
        }
    }

    public (double P95Seconds, bool Alert) Read()
    {
        double[] values;
        lock (_gate)
        {
            while (_samples.Count > 0 && Stopwatch.GetElapsedTime(_samples.Peek().At) > window)
            {
                _samples.Dequeue();
            }

            values = _samples.Select(s => s.Seconds).ToArray();
        }

        if (values.Length == 0)
        {
            return (0, false);
        }

        Array.Sort(values);
        var p95 = Percentiles.At(values, 0.95);
        return (p95, p95 > alertSeconds);
    }
}
