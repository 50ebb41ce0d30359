using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Resilience.Drill.Measurement;
using Resilience.Drill.Reporting;
using Resilience.Drill.Simulation;
using Resilience.Drill.Stacks;

namespace Resilience.Drill;

/// <summary>Runs one stack through the spike: writers, class bursts, the signal sampler, then the end-of-run checks.</summary>
internal sealed class ModeRunner(DrillSettings settings, ISubmissionStack stack, SignalMonitor monitor, IProgressView progress)
{
    private readonly RunRecorder _recorder = new();
    private readonly ObjectStore _store = new();
    private readonly ConcurrentBag<Task> _orphans = [];

    public async Task<ModeReport> RunAsync(CancellationToken cancellationToken)
    {
        await stack.PrepareAsync(cancellationToken);
        var duration = TimeSpan.FromSeconds(settings.DurationSeconds);
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);

        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var samples = new List<SignalSample>();
        var sampler = monitor.RunAsync(stack, samples, started, sample => progress.Update(stack.Name, sample, _recorder, duration), sampling.Token);

        var writers = Enumerable.Range(0, settings.Writers)
            .Select(i => WriterLoopAsync(Writer.Create(i, settings.FleetWorkers), deadline, cancellationToken))
            .ToList();
        var bursts = ClassBurstsAsync(deadline, cancellationToken);
        await Task.WhenAll(writers.Append(bursts));
        await Task.WhenAll(_orphans);
        var elapsed = Stopwatch.GetElapsedTime(started);

        await sampling.CancelAsync();
        await sampler;

        var invariants = new List<InvariantResult>
        {
            Invariants.KeyCollisions(_store),
            Invariants.ConnectionBudget(_recorder, samples, monitor.ServerBudget, stack.ClientConnectionBudget),
            Invariants.NullScoresRejected(_recorder),
        };
        invariants.AddRange(await stack.CheckInvariantsAsync(_recorder, cancellationToken));

        return new ModeReport(
            stack.Name,
            elapsed.TotalSeconds,
            _recorder.Submissions,
            _recorder.Completed,
            _recorder.FailureCounts(),
            _recorder.Counters(),
            _recorder.StagePercentiles(),
            samples,
            monitor.Summarise(samples),
            invariants,
            _recorder.SampleErrors());
    }

    private async Task WriterLoopAsync(Writer writer, long deadline, CancellationToken cancellationToken)
    {
        var dice = new Dice(settings, settings.Seed + writer.Index);
        var ramp = settings.Writers <= 1 ? 0 : settings.RampSeconds * writer.Index / (settings.Writers - 1);
        await Task.Delay(TimeSpan.FromSeconds(ramp), cancellationToken);
        while (Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
        {
            await SubmitAsync(writer, dice.NextSubmission(), retryAfterForceQuit: false, cancellationToken);
            await Task.Delay(dice.ThinkTime(), cancellationToken);
        }
    }

    private async Task SubmitAsync(Writer writer, SubmissionPlan plan, bool retryAfterForceQuit, CancellationToken cancellationToken)
    {
        _recorder.SubmissionStarted();
        var started = Stopwatch.GetTimestamp();
        var clientQuit = plan.ForceQuitAfter is not null && !retryAfterForceQuit
            ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
            : null;
        try
        {
            var handling = stack.RunUnderSessionAsync(
                writer, retryAfterForceQuit, _recorder, ct => HandleAsync(writer, plan, clientQuit, ct), cancellationToken);
            if (clientQuit is not null && await Task.WhenAny(handling, clientQuit.Task) != handling)
            {
                // The user force-quit: the server-side handler keeps running (and holding the session) until the AI
                // answers and it finds the client gone. The user opens the app again and retries at once.
                _recorder.Fail(FailureKind.ForceQuit);
                _recorder.Count(Counters.Orphans);
                _orphans.Add(ObserveAbandonedAsync(handling));
                await SubmitAsync(writer, plan, retryAfterForceQuit: true, cancellationToken);
                return;
            }

            await handling;
            _recorder.SubmissionCompleted();
            _recorder.Record(Stage.Submission, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (Exception error) when (!cancellationToken.IsCancellationRequested)
        {
            var kind = Classify(error, retryAfterForceQuit);
            _recorder.Fail(kind, error);
            if (kind == FailureKind.ConnectionFailed)
            {
                _recorder.Count(Counters.ConnectionsRefused);
            }
        }
    }

    private async Task HandleAsync(Writer writer, SubmissionPlan plan, TaskCompletionSource? clientQuit, CancellationToken cancellationToken)
    {
        await using var request = stack.BeginRequest(writer);
        try
        {
            await _recorder.TimeAsync(Stage.VectorSearch, () => request.FindNeighboursAsync(plan.Embedding, cancellationToken));
        }
        catch (Exception error) when (IsConnectionFailure(error))
        {
            // Like the incident's service, grade without the reference answers when the database cannot be reached.
            _recorder.Count(Counters.NeighboursUnavailable);
            _recorder.Count(Counters.ConnectionsRefused);
        }
        await _recorder.TimeAsync(Stage.PromptCache, () => stack.GetPromptAsync(writer, cancellationToken).AsTask());

        if (clientQuit is not null)
        {
            _ = QuitAfterAsync(clientQuit, plan.ForceQuitAfter!.Value);
            await _recorder.TimeAsync(Stage.AiCall, () => SimulatedAi.CallAsync(plan, cancellationToken));
            throw new ClientGoneException();
        }

        await _recorder.TimeAsync(Stage.AiCall, () => SimulatedAi.CallAsync(plan, cancellationToken));

        if (plan.ImagePages > 0)
        {
            var keys = await _recorder.TimeAsync(Stage.UploadKeys, () => Task.FromResult(stack.CreateUploadKeys(writer, plan)));
            Upload(keys, plan.SubmissionId.ToString());
        }

        int? points = plan.ScoreComesBackNull ? null : plan.Points;
        if (points is null)
        {
            _recorder.Count(Counters.NullScoresInjected);
        }

        await _recorder.TimeAsync(Stage.ScoreApply, () => request.ApplyScoreAsync(plan, points, cancellationToken));
        _recorder.Count(Counters.ScoresApplied);
    }

    private async Task ClassBurstsAsync(long deadline, CancellationToken cancellationToken)
    {
        if (settings.ClassBurstSeconds <= 0)
        {
            return;
        }

        var classes = Math.Max(1, settings.Writers / Writer.StudentsPerClass);
        var random = new Random(settings.Seed);
        for (var burst = 0; ; burst++)
        {
            await Task.Delay(TimeSpan.FromSeconds(settings.ClassBurstSeconds), cancellationToken);
            if (Stopwatch.GetTimestamp() >= deadline)
            {
                return;
            }

            // The teacher says "upload now": every student of one class, every page, in the same millisecond.
            var firstStudent = random.Next(classes) * Writer.StudentsPerClass;
            var instant = new FrozenTimeProvider(TimeProvider.System.GetUtcNow());
            var pages = random.Next(1, 5);
            var started = Stopwatch.GetTimestamp();
            Parallel.For(0, Math.Min(Writer.StudentsPerClass, settings.Writers), student =>
            {
                var writer = Writer.Create(firstStudent + student, settings.FleetWorkers);
                var upload = $"burst{burst}/{writer.UserId}";
                Upload(stack.CreateBurstKeys(writer, pages, instant), upload);
            });
            _recorder.Record(Stage.UploadKeys, Stopwatch.GetElapsedTime(started).TotalSeconds);
            _recorder.Count(Counters.ClassBursts);
        }
    }

    private void Upload(IReadOnlyList<string> keys, string upload)
    {
        for (var page = 0; page < keys.Count; page++)
        {
            _store.Put(keys[page], $"{upload}/page{page}");
        }

        _recorder.Count(Counters.UploadKeys, keys.Count);
    }

    private static async Task QuitAfterAsync(TaskCompletionSource clientQuit, TimeSpan after)
    {
        await Task.Delay(after);
        clientQuit.TrySetResult();
    }

    private static async Task ObserveAbandonedAsync(Task handling)
    {
        try
        {
            await handling;
        }
        catch (ClientGoneException)
        {
            // expected: the handler found the client gone
        }
        catch (Exception)
        {
            // the abandoned request's own failure is not the user's: already counted as a force-quit
        }
    }

    private static FailureKind Classify(Exception error, bool retryAfterForceQuit) => error switch
    {
        SessionBusyException when retryAfterForceQuit => FailureKind.SessionStillActive,
        SessionBusyException => FailureKind.LockTimeout,
        AiServiceException => FailureKind.AiError,
        NullScoreRejectedException => FailureKind.NullScoreRejected,
        _ when IsConnectionFailure(error) => FailureKind.ConnectionFailed,
        ScoreWriteException => FailureKind.ScoreFailed,
        _ => FailureKind.Other,
    };

    /// <summary>The database refused or timed out a connection: "too many clients", a pool wait that ran out, a reset.</summary>
    private static bool IsConnectionFailure(Exception error) => error switch
    {
        PostgresException { SqlState: "53300" or "53400" or "57P03" } => true,
        PostgresException => false,
        NpgsqlException { InnerException: TimeoutException } or NpgsqlException { IsTransient: true } => true,
        TimeoutException or Pooling.PoolAcquireTimeoutException => true,
        ScoreWriteException { InnerException: { } inner } => IsConnectionFailure(inner),
        _ => false,
    };
}
