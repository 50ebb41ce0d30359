namespace Resilience.Drill.Simulation;

/// <summary>Seeded per-writer randomness: think times, AI latency (log-normal body with a slow tail) and faults.</summary>
internal sealed class Dice(DrillSettings settings, int seed)
{
    public const int EmbeddingDimensions = 64;
    private static readonly string[] Concepts = ["fractions", "algebra", "geometry", "grammar", "essay", "physics", "chemistry", "history"];
    private readonly Random _random = new(seed);

    public TimeSpan ThinkTime()
    {
        var (min, max) = settings.ThinkRange;
        return TimeSpan.FromSeconds(min + (_random.NextDouble() * (max - min)));
    }

    public SubmissionPlan NextSubmission()
    {
        var latency = AiLatency();
        var forceQuit = Chance(settings.ForceQuitRate);
        return new SubmissionPlan(
            Guid.CreateVersion7(),
            TimeProvider.System.GetUtcNow(),
            Concepts[_random.Next(Concepts.Length)],
            Embedding(),
            latency,
            AiThrows: !forceQuit && Chance(settings.AiErrorRate),
            ForceQuitAfter: forceQuit ? latency * (0.2 + (0.5 * _random.NextDouble())) : null,
            Points: _random.Next(0, 6),
            ScoreComesBackNull: Chance(settings.NullScoreRate),
            ImagePages: Chance(settings.ImageRate) ? _random.Next(1, 5) : 0);
    }

    public float[] Embedding()
    {
        var vector = new float[EmbeddingDimensions];
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)((_random.NextDouble() * 2) - 1);
        }

        return vector;
    }

    private TimeSpan AiLatency()
    {
        if (Chance(settings.AiSlowRate))
        {
            var (min, max) = settings.AiSlowSeconds;
            return TimeSpan.FromSeconds(min + (_random.NextDouble() * (max - min)));
        }

        // Box-Muller normal, then log-normal around the median (a far-tail draw capped at a day, a delay Task.Delay takes).
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        var normal = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        return TimeSpan.FromSeconds(Math.Min(settings.AiMedianSeconds * Math.Exp(settings.AiSigma * normal), DrillSettings.MaxSeconds));
    }

    private bool Chance(double rate) => _random.NextDouble() < rate;
}
