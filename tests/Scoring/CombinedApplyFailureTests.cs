using System.Diagnostics.Metrics;
using FsCheck.Xunit;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Npgsql;
using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

/// <summary>
/// Combined applies under failure: killed connections, a disposed data source, throwing metric listeners, cancellation
/// racing the batch taking, and shared statements full of duplicates, stale versions and bound violations. After each,
/// the store must hold no slot and queue nothing, and the log and projection must verify clean.
/// </summary>
public sealed class CombinedApplyFailureTests(ServiceFixture services)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Killing_a_shared_statement_fails_each_of_its_callers_as_a_lone_apply_would_fail_and_the_store_keeps_working(bool throughPgBouncer)
    {
        await using var db = await ScoringDatabase.CreateAsync(
            throughPgBouncer ? await services.PgBouncerAsync() : await services.PostgresAsync(), o => o.MaxConcurrentApplyBatches = 1);

        // Test hook: the first insert of 'k-slow' sleeps (a sequence is not rolled back, so only the first one ever does).
        await db.ExecuteAsync("CREATE SEQUENCE {s}.test_hold_once");
        await db.ExecuteAsync("""
            CREATE FUNCTION {s}.test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF nextval('{s}.test_hold_once') = 1 THEN PERFORM pg_sleep(120); END IF; RETURN NEW; END $$
            """);
        await db.ExecuteAsync("""
            CREATE TRIGGER test_hold AFTER INSERT ON {s}.score_events FOR EACH ROW
            WHEN (NEW.event_id = 'k-slow') EXECUTE FUNCTION {s}.test_hold()
            """);

        ScoreEvent[] events = [ScoreEvent.Add("k-1", "u1", "c", 1), ScoreEvent.Add("k-slow", "u2", "c", 2), ScoreEvent.Add("k-3", "u3", "c", 3)];
        await using (var gate = await BlockedSlot.OpenAsync(db, Ct))
        {
            var queued = events.Select(e => db.Store.ApplyAsync(e, Ct)).ToArray();
            await gate.WaitUntilQueuedAsync(events.Length);
            await gate.ReleaseAsync();

            await using var admin = await KillTests.OpenAdminAsync();
            await KillTests.TerminateAsync(admin, await KillTests.WaitForBackendAsync(admin, db.ApplicationName, "PgSleep"));

            // A connection failure is nobody's event: every caller of the statement sees it, as a lone caller would, and none
            // of them is silently sent again (one by one, a failing server would be hit once per event while callers wait).
            var errors = new List<NpgsqlException>();
            foreach (var call in queued)
            {
                errors.Add(await Assert.ThrowsAnyAsync<NpgsqlException>(() => call));
            }

            // The same failure for all of them (PostgreSQL: admin shutdown; PgBouncer reports its lost server connection).
            Assert.Single(errors.Distinct());
            if (!throughPgBouncer)
            {
                Assert.Equal(PostgresErrorCodes.AdminShutdown, (errors[0] as PostgresException)?.SqlState ?? PostgresErrorCodes.AdminShutdown);
            }
        }

        Assert.Equal(1, db.Store.SharedApplyBatches);
        Assert.Equal(0, await db.ScalarAsync("SELECT count(*) FROM {s}.score_events WHERE event_id LIKE 'k-%'"));
        await WaitUntilIdleAsync(db.Store);

        // The slot came back: the callers' retries apply, once each.
        var retried = await Task.WhenAll(events.Select(e => db.Store.ApplyAsync(e, Ct)));
        Assert.All(retried, r => Assert.Equal((1L, false), (r.Version, r.IsDuplicate)));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_stale_event_in_a_shared_statement_is_counted_and_logged_as_one_conflict()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.MaxConcurrentApplyBatches = 1);
        using var meterFactory = new TestMeterFactory();
        using var conflicts = new MetricCollector<long>(meterFactory, "Resilience.Scoring", "resilience.scoring.conflicts");
        using var applied = new MetricCollector<long>(meterFactory, "Resilience.Scoring", "resilience.scoring.events.applied");
        var logger = new FakeLogger<ScoreStore>();
        using var store = new ScoreStore(db.DataSource, db.Options, db.Time, logger, meterFactory);

        await using (var gate = await BlockedSlot.OpenAsync(db, Ct, store))
        {
            var good = Enumerable.Range(0, 3).Select(i => store.ApplyAsync(ScoreEvent.Add($"g{i}", $"u{i}", "c", 1), Ct)).ToArray();
            var stale = store.ApplyAsync(ScoreEvent.Add("stale", "u0", "c", 1) with { ExpectedVersion = 9 }, Ct);
            await gate.WaitUntilQueuedAsync(4);
            await gate.ReleaseAsync();
            await Task.WhenAll(good);
            await Assert.ThrowsAsync<ScoreVersionConflictException>(() => stale);
        }

        Assert.Equal(1, store.SharedApplyBatches);
        Assert.Equal(1, conflicts.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 2 && r.Message.Contains("stale", StringComparison.Ordinal));
        Assert.Equal(2 + 3, applied.GetMeasurementSnapshot().Sum(m => m.Value)); // the blocker's two and the three good ones
    }

    [Fact]
    public async Task One_stale_event_among_many_in_a_shared_statement_costs_a_few_statements_not_one_per_event()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.MaxConcurrentApplyBatches = 1);
        using var meterFactory = new TestMeterFactory();
        using var statements = new MetricCollector<double>(meterFactory, "Resilience.Scoring", "resilience.scoring.apply.duration");
        using var store = new ScoreStore(db.DataSource, db.Options, db.Time, null, meterFactory);
        const int Count = 64, StaleAt = 37;

        Task<ScoreResult>[] queued;
        await using (var gate = await BlockedSlot.OpenAsync(db, Ct, store))
        {
            queued = [.. Enumerable.Range(0, Count).Select(i => store.ApplyAsync(
                i == StaleAt ? ScoreEvent.Add($"e{i}", "u", "c", 1) with { ExpectedVersion = 3 } : ScoreEvent.Add($"e{i}", "u", "c", 1), Ct))];
            await gate.WaitUntilQueuedAsync(Count);
            statements.Clear(); // the blocker's statements
            await gate.ReleaseAsync();
        }

        // Every caller still gets its own outcome: one version after another, except the stale one.
        var conflict = await Assert.ThrowsAsync<ScoreVersionConflictException>(() => queued[StaleAt]);
        Assert.Equal((3L, (long)StaleAt), (conflict.ExpectedVersion, conflict.ActualVersion));
        for (var i = 0; i < Count; i++)
        {
            if (i != StaleAt)
            {
                Assert.Equal(i < StaleAt ? i + 1 : i, (await queued[i]).Version);
            }
        }

        // The blocked statement, the failed shared one, then halves of halves around the stale event: about 2 log2(64)
        // statements, where applying each event alone again would have cost 64 more.
        await WaitUntilIdleAsync(store);
        var sent = statements.GetMeasurementSnapshot().Count;
        Assert.InRange(sent, 2, 1 + 1 + (2 * 6) + 4);
        Assert.Equal(Count - 1, await db.ScalarAsync("SELECT count(*) FROM {s}.score_events WHERE user_id = 'u'"));
        Assert.Empty(await store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task More_queued_callers_than_MaxBatchSize_are_sent_in_statements_of_at_most_MaxBatchSize_in_arrival_order()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o =>
        {
            o.MaxConcurrentApplyBatches = 1;
            o.MaxBatchSize = 4;
        });
        using var meterFactory = new TestMeterFactory();
        using var perStatement = new MetricCollector<int>(meterFactory, "Resilience.Scoring", "resilience.scoring.apply.combined_events");
        using var store = new ScoreStore(db.DataSource, db.Options, db.Time, null, meterFactory);

        Task<ScoreResult>[] queued;
        await using (var gate = await BlockedSlot.OpenAsync(db, Ct, store))
        {
            queued = [.. Enumerable.Range(0, 10).Select(i => store.ApplyAsync(ScoreEvent.Add($"e{i}", "u", "c", i), Ct))];
            await gate.WaitUntilQueuedAsync(queued.Length);
            await gate.ReleaseAsync();
        }

        var results = await Task.WhenAll(queued);
        Assert.Equal(Enumerable.Range(1, 10).Select(v => (long)v), results.Select(r => r.Version));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (double)Enumerable.Range(0, i + 1).Sum()), results.Select(r => r.Score));
        Assert.Equal([1, 1, 4, 4, 2], perStatement.GetMeasurementSnapshot().Select(m => m.Value)); // the blocker's two, then the ten
        Assert.Equal(3, store.SharedApplyBatches);
        await WaitUntilIdleAsync(store);
        Assert.Empty(await store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_throwing_metrics_listener_never_changes_the_outcome_of_an_apply()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.MaxConcurrentApplyBatches = 1);
        using var meterFactory = new TestMeterFactory();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meterFactory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, _, _, _) => throw new InvalidOperationException("listener broke"));
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => throw new InvalidOperationException("listener broke"));
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => throw new InvalidOperationException("listener broke"));
        listener.Start();
        using var store = new ScoreStore(db.DataSource, db.Options, db.Time, null, meterFactory);

        // A lone apply commits and must say so (not report a failure for a write that happened).
        var lone = await store.ApplyAsync(ScoreEvent.Add("lone", "u", "c", 2), Ct);
        Assert.Equal((2.0, 1L, false), (lone.Score, lone.Version, lone.IsDuplicate));
        var again = await store.ApplyAsync(ScoreEvent.Add("lone", "u", "c", 2), Ct);
        Assert.True(again.IsDuplicate);

        // Shared statements, a conflict and a rejection keep their own outcomes too.
        await using (var gate = await BlockedSlot.OpenAsync(db, Ct, store))
        {
            var queued = Enumerable.Range(0, 5).Select(i => store.ApplyAsync(ScoreEvent.Add($"q{i}", "u", "c", 1), Ct)).ToArray();
            var stale = store.ApplyAsync(ScoreEvent.Add("stale", "u", "c", 1) with { ExpectedVersion = 0 }, Ct);
            await gate.WaitUntilQueuedAsync(6);
            await gate.ReleaseAsync();
            Assert.Equal([2L, 3L, 4L, 5L, 6L], (await Task.WhenAll(queued)).Select(r => r.Version));
            await Assert.ThrowsAsync<ScoreVersionConflictException>(() => stale);
        }

        await Assert.ThrowsAsync<ScoreValidationException>(() => store.ApplyAsync(ScoreEvent.Add("bad", "u", "c", double.NaN), Ct));
        Assert.True(store.SharedApplyBatches >= 1);

        // The same without combining, and for a batch.
        db.Options.CombineApplies = false;
        using var uncombined = new ScoreStore(db.DataSource, db.Options, db.Time, null, meterFactory);
        Assert.Equal(7L, (await uncombined.ApplyAsync(ScoreEvent.Add("plain", "u", "c", 1), Ct)).Version);
        Assert.Equal([8L, 9L], (await uncombined.ApplyBatchAsync([ScoreEvent.Add("b1", "u", "c", 1), ScoreEvent.Add("b2", "u", "c", 1)], Ct)).Select(r => r.Version));
        Assert.Equal(1 + 5 + 2 + 3, await db.EventCountAsync());
        await WaitUntilIdleAsync(store);
        Assert.Empty(await store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task An_event_the_database_refuses_for_its_own_data_fails_only_its_own_caller_in_a_shared_statement()
    {
        // An id within MaxIdLength that PostgreSQL still cannot index (a B-tree entry holds at most about 2,700 bytes):
        // the database refuses that one event (54000), as it would alone; the callers sharing its statement must not pay.
        await using var db = await ScoringDatabase.CreateAsync(services, o =>
        {
            o.MaxConcurrentApplyBatches = 1;
            o.MaxIdLength = 10_000;
        });
        var random = new Random(7);
        var huge = new string([.. Enumerable.Range(0, 6_000).Select(_ => (char)random.Next('!', '~' + 1))]);
        var alone = await Assert.ThrowsAsync<PostgresException>(() => db.Store.ApplyAsync(ScoreEvent.Add(huge, "u-alone", "c", 1), Ct));

        await using (var gate = await BlockedSlot.OpenAsync(db, Ct))
        {
            var good = Enumerable.Range(0, 5).Select(i => db.Store.ApplyAsync(ScoreEvent.Add($"g{i}", $"u{i}", "c", 1), Ct)).ToArray();
            var refused = db.Store.ApplyAsync(ScoreEvent.Add(huge, "u0", "c", 1), Ct);
            await gate.WaitUntilQueuedAsync(6);
            await gate.ReleaseAsync();

            Assert.All(await Task.WhenAll(good), r => Assert.Equal((1L, false), (r.Version, r.IsDuplicate)));
            Assert.Equal(alone.SqlState, (await Assert.ThrowsAsync<PostgresException>(() => refused)).SqlState);
        }

        await WaitUntilIdleAsync(db.Store);
        Assert.Equal(5, await db.ScalarAsync("SELECT count(*) FROM {s}.score_events WHERE event_id LIKE 'g%'"));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_logger_that_throws_on_the_replay_message_does_not_fail_the_callers_of_the_shared_statement()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.MaxConcurrentApplyBatches = 1);
        using var store = new ScoreStore(db.DataSource, db.Options, db.Time, new ThrowingLogger(eventId: 7));

        await using (var gate = await BlockedSlot.OpenAsync(db, Ct, store))
        {
            var good = Enumerable.Range(0, 3).Select(i => store.ApplyAsync(ScoreEvent.Add($"g{i}", $"u{i}", "c", 1), Ct)).ToArray();
            var stale = store.ApplyAsync(ScoreEvent.Add("stale", "u0", "c", 1) with { ExpectedVersion = 9 }, Ct);
            await gate.WaitUntilQueuedAsync(4);
            await gate.ReleaseAsync();
            Assert.All(await Task.WhenAll(good), r => Assert.Equal(1L, r.Version));
            await Assert.ThrowsAsync<ScoreVersionConflictException>(() => stale);
        }

        await WaitUntilIdleAsync(store);
        Assert.Empty(await store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Disposing_the_data_source_fails_queued_callers_fast_and_leaves_no_slot_taken()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.MaxConcurrentApplyBatches = 1);
        var builder = new NpgsqlDataSourceBuilder(await services.PostgresAsync());
        builder.ConnectionStringBuilder.MaxPoolSize = 3;
        builder.ConnectionStringBuilder.ApplicationName = db.ApplicationName;
        var own = builder.Build();
        using var store = new ScoreStore(own, db.Options, db.Time);

        await using (var gate = await BlockedSlot.OpenAsync(db, Ct, store))
        {
            var queued = Enumerable.Range(0, 4).Select(i => store.ApplyAsync(ScoreEvent.Add($"q{i}", $"u{i}", "c", 1), Ct)).ToArray();
            await gate.WaitUntilQueuedAsync(queued.Length);
            await own.DisposeAsync();
            await gate.ReleaseAsync();
            foreach (var call in queued)
            {
                await Assert.ThrowsAsync<ObjectDisposedException>(() => call);
            }
        }

        await WaitUntilIdleAsync(store);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.ApplyAsync(ScoreEvent.Add("late", "u", "c", 1), Ct));
        await WaitUntilIdleAsync(store);
        Assert.Equal(0, await db.ScalarAsync("SELECT count(*) FROM {s}.score_events WHERE event_id LIKE 'q%' OR event_id = 'late'"));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    /// <summary>
    /// Differential: the same calls, queued behind one busy slot so that they share statements of at most
    /// <see cref="ScoringOptions.MaxBatchSize"/> events, must give every caller exactly what the same calls made one at a
    /// time, in the same order, give on a store without combining (results and exception types), and leave the same scores.
    /// Calls reuse ids (same and different payloads), carry stale and good expected versions, and cross the bounds.
    /// </summary>
    [Property(MaxTest = 10)]
    public async Task Shared_statements_give_every_caller_exactly_what_it_gets_alone(int seed)
    {
        var random = new Random(seed);
        const double Max = 20;
        var calls = new List<ScoreEvent>();
        for (var i = 0; i < 30; i++)
        {
            ScoreEvent scoreEvent;
            if (calls.Count > 0 && random.Next(6) == 0)
            {
                // The same event again (a client retry), with or without an expected version.
                scoreEvent = calls[random.Next(calls.Count)] with { ExpectedVersion = null };
            }
            else
            {
                var id = calls.Count > 0 && random.Next(6) == 0 ? calls[random.Next(calls.Count)].EventId : $"e{i}";
                var user = $"u{random.Next(3)}";
                scoreEvent = random.Next(5) == 0 ? ScoreEvent.Set(id, user, "c", random.Next(0, 21)) : ScoreEvent.Add(id, user, "c", random.Next(-3, 9));
            }

            if (random.Next(4) == 0)
            {
                scoreEvent = scoreEvent with { ExpectedVersion = random.Next(0, 5) };
            }

            calls.Add(scoreEvent);
        }

        void Configure(ScoringOptions o, bool combine)
        {
            o.MinScore = -5;
            o.MaxScore = Max;
            o.MaxBatchSize = 13;
            o.MaxConcurrentApplyBatches = 1;
            o.CombineApplies = combine;
        }

        await using var alone = await ScoringDatabase.CreateAsync(services, o => Configure(o, combine: false), maxPoolSize: 2);
        var expected = new List<string>();
        foreach (var call in calls)
        {
            expected.Add(await OutcomeAsync(alone.Store.ApplyAsync(call, Ct)));
        }

        await using var combined = await ScoringDatabase.CreateAsync(services, o => Configure(o, combine: true), maxPoolSize: 3);
        Task<ScoreResult>[] queued;
        await using (var gate = await BlockedSlot.OpenAsync(combined, Ct))
        {
            queued = [.. calls.Select(call => combined.Store.ApplyAsync(call, Ct))];
            await gate.WaitUntilQueuedAsync(calls.Count);
            await gate.ReleaseAsync();
        }

        var actual = new List<string>();
        foreach (var call in queued)
        {
            actual.Add(await OutcomeAsync(call));
        }

        Assert.Equal(expected, actual);
        Assert.True(combined.Store.SharedApplyBatches >= 1);
        Assert.Equal(await ScoresAsync(alone), await ScoresAsync(combined));
        await WaitUntilIdleAsync(combined.Store);
        Assert.Empty(await combined.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Callers_cancelled_while_queued_are_dropped_even_when_the_slot_frees_right_after_the_cancel()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o => o.MaxConcurrentApplyBatches = 1);
        var tokens = Enumerable.Range(0, 12).Select(_ => CancellationTokenSource.CreateLinkedTokenSource(Ct)).ToArray();
        try
        {
            Task<ScoreResult>[] queued;
            await using (var gate = await BlockedSlot.OpenAsync(db, Ct))
            {
                queued = [.. Enumerable.Range(0, tokens.Length).Select(i => db.Store.ApplyAsync(ScoreEvent.Add($"e{i}", "u", "c", 1), tokens[i].Token))];
                await gate.WaitUntilQueuedAsync(queued.Length);

                // Cancel every other caller and free the slot at once, without waiting for the cancelled calls to finish first.
                for (var i = 0; i < tokens.Length; i += 2)
                {
                    tokens[i].Cancel();
                }

                await gate.ReleaseAsync();
            }

            for (var i = 0; i < queued.Length; i++)
            {
                if (i % 2 == 0)
                {
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued[i]);
                }
                else
                {
                    Assert.Equal(i / 2 + 1, (await queued[i]).Version);
                }
            }

            Assert.Equal(0, await db.ScalarAsync("SELECT count(*) FROM {s}.score_events WHERE user_id = 'u' AND (substr(event_id, 2)::int % 2) = 0"));
            await WaitUntilIdleAsync(db.Store);
            Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
        }
        finally
        {
            Array.ForEach(tokens, t => t.Dispose());
        }
    }

    [Fact]
    public async Task Cancellation_racing_the_batch_taking_never_loses_doubles_or_misreports_an_event()
    {
        await using var db = await ScoringDatabase.CreateAsync(services, o =>
        {
            o.MaxConcurrentApplyBatches = 2;
            o.MaxBatchSize = 7;
        });
        const int Writers = 6, PerWriter = 40;
        var returned = new System.Collections.Concurrent.ConcurrentDictionary<string, ScoreResult>();
        var mostInFlight = 0;
        using var writersDone = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!writersDone.IsCancellationRequested)
            {
                mostInFlight = Math.Max(mostInFlight, db.Store.InFlightApplyBatches);
                await Task.Delay(1, CancellationToken.None);
            }
        }, Ct);
        var cancelled = new System.Collections.Concurrent.ConcurrentBag<string>();

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            for (var i = 0; i < PerWriter; i++)
            {
                var scoreEvent = ScoreEvent.Add($"w{w}-{i}", $"u{i % 4}", "c", 1);
                using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
                var call = db.Store.ApplyAsync(scoreEvent, cancel.Token);
                if (random.Next(3) == 0)
                {
                    // Cancel at a random point: while queued, while being taken, or after the statement was sent.
                    for (var spin = random.Next(200); spin > 0; spin--)
                    {
                        await Task.Yield();
                    }

                    await cancel.CancelAsync();
                }

                try
                {
                    returned[scoreEvent.EventId] = await call;
                }
                catch (OperationCanceledException)
                {
                    cancelled.Add(scoreEvent.EventId);
                }
            }
        }, Ct)));

        await writersDone.CancelAsync();
        await sampler;
        Assert.InRange(mostInFlight, 0, 2); // never above MaxConcurrentApplyBatches (a loaded machine may sample no slot taken)
        Assert.Equal(Writers * PerWriter, returned.Count + cancelled.Count);
        Assert.NotEmpty(cancelled);
        await WaitUntilIdleAsync(db.Store);

        // Every returned result is what the log holds for that event; a cancelled event is in the log at most once.
        var log = new Dictionary<string, long>();
        await using (var command = db.DataSource.CreateCommand($"SELECT event_id, result_version FROM {db.Schema}.score_events"))
        {
            await using var reader = await command.ExecuteReaderAsync(Ct);
            while (await reader.ReadAsync(Ct))
            {
                log.Add(reader.GetString(0), reader.GetInt64(1));
            }
        }

        Assert.All(returned, pair => Assert.Equal((pair.Value.Version, false), (log[pair.Key], pair.Value.IsDuplicate)));
        Assert.Equal(log.Count, await db.ScalarAsync("SELECT sum(score)::bigint FROM {s}.score_projection"));
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));

        // A cancelled caller's retry is safe: applied now or the first application's result.
        foreach (var id in cancelled)
        {
            var retried = await db.Store.ApplyAsync(ScoreEvent.Add(id, $"u{int.Parse(id[(id.IndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture) % 4}", "c", 1), Ct);
            Assert.Equal(log.ContainsKey(id), retried.IsDuplicate);
        }

        Assert.Equal(Writers * PerWriter, await db.EventCountAsync());
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Combined_applies_through_PgBouncer_in_transaction_mode_share_statements_and_fold_exactly()
    {
        await using var db = await ScoringDatabase.CreateAsync(await services.PgBouncerAsync(), o => o.MaxConcurrentApplyBatches = 2, maxPoolSize: 4);

        var results = await Task.WhenAll(Enumerable.Range(0, 120).Select(i => Task.Run(() => db.Store.ApplyAsync(ScoreEvent.Add($"e{i}", $"u{i % 5}", "c", 1), Ct))));
        var stale = await Assert.ThrowsAsync<ScoreVersionConflictException>(() => db.Store.ApplyAsync(ScoreEvent.Add("stale", "u0", "c", 1) with { ExpectedVersion = 3 }, Ct));

        Assert.Equal(24L, stale.ActualVersion);
        foreach (var user in Enumerable.Range(0, 5))
        {
            Assert.Equal(Enumerable.Range(1, 24).Select(v => (long)v), results.Where(r => r.UserId == $"u{user}").Select(r => r.Version).Order());
        }

        await WaitUntilIdleAsync(db.Store);
        Assert.Equal(120, await db.EventCountAsync());
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    private static async Task<string> OutcomeAsync(Task<ScoreResult> call)
    {
        try
        {
            var r = await call;
            return $"{r.EventId} {r.Score} v{r.Version} dup={r.IsDuplicate}";
        }
        catch (ScoringException ex)
        {
            var detail = ex switch
            {
                ScoreVersionConflictException c => $"{c.EventId} expected {c.ExpectedVersion} found {c.ActualVersion}",
                EventIdReusedException r => r.EventId,
                ScoreBoundsExceededException b => b.EventId,
                _ => ex.Message,
            };
            return $"{ex.GetType().Name} {detail}";
        }
    }

    private static async Task<string> ScoresAsync(ScoringDatabase db)
    {
        await using var command = db.DataSource.CreateCommand(
            $"SELECT string_agg(format('%s=%s@%s', user_id, score, version), ',' ORDER BY user_id) FROM {db.Schema}.score_projection WHERE user_id <> 'blocker'");
        return await command.ExecuteScalarAsync(Ct) is string text ? text : "<none>";
    }

    /// <summary>Waits (bounded) until the store holds no statement slot and queues nothing: a leaked slot fails here.</summary>
    private static async Task WaitUntilIdleAsync(ScoreStore store)
    {
        for (var attempt = 0; attempt < 3_000; attempt++)
        {
            if (store.InFlightApplyBatches == 0 && store.QueuedApplies == 0)
            {
                return;
            }

            await Task.Delay(10, Ct);
        }

        Assert.Fail($"The store still holds {store.InFlightApplyBatches} statement slots and queues {store.QueuedApplies} applies.");
    }

    private sealed class ThrowingLogger(int eventId) : Microsoft.Extensions.Logging.ILogger<ScoreStore>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(
            Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (id.Id == eventId)
            {
                throw new InvalidOperationException("logger broke");
            }
        }
    }
}
