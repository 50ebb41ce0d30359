using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Resilience.TestSupport;
using static Resilience.Pooling.Tests.PoolTestHelpers;

namespace Resilience.Pooling.Tests;

/// <summary>Every metric, the leak report and recycling by lifetime and idle time, under fake time.</summary>
public sealed class PoolTelemetryTests(ServiceFixture services)
{
    [Fact]
    public async Task Every_metric_is_reported_with_OpenTelemetry_names_units_and_the_pool_tag()
    {
        using var meters = new TestMeters();
        using var count = meters.Collect<int>("db.client.connection.count");
        using var max = meters.Collect<int>("db.client.connection.max");
        using var pending = meters.Collect<int>("db.client.connection.pending_requests");
        using var timeouts = meters.Collect<long>("db.client.connection.timeouts");
        using var waitTime = meters.Collect<double>("db.client.connection.wait_time");
        using var useTime = meters.Collect<double>("db.client.connection.use_time");
        using var recycled = meters.Collect<long>("resilience.pool.connection.recycled");
        using var utilization = meters.Collect<double>("resilience.pool.server.utilization");
        using var alert = meters.Collect<int>("resilience.pool.server.saturation_alert");
        var time = new FakeTimeProvider();
        await using var pool = new PostgresPool(
            Options(await services.PostgresAsync(), UniqueAppName("metrics"), o =>
            {
                o.MaxSize = 2;
                o.AcquireTimeout = TimeSpan.FromSeconds(1);
                o.IdleTimeout = TimeSpan.FromSeconds(30);
                o.MaxLifetime = TimeSpan.FromHours(1);
            }),
            timeProvider: time, meterFactory: meters.Factory);
        var ct = TestContext.Current.CancellationToken;

        await using (var first = await pool.OpenConnectionAsync(ct))
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
        }

        var a = await pool.OpenConnectionAsync(ct);
        var b = await pool.OpenConnectionAsync(ct);
        var c = pool.OpenConnectionAsync(ct).AsTask();

        pending.RecordObservableInstruments();
        Assert.Equal(1, pending.LastMeasurement!.Value);
        count.RecordObservableInstruments();
        Assert.Equal(2, Last(count, "used"));
        Assert.Equal(0, Last(count, "idle"));
        max.RecordObservableInstruments();
        Assert.Equal(2, max.LastMeasurement!.Value);

        time.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<PoolAcquireTimeoutException>(() => c);
        Assert.Equal(1, timeouts.GetMeasurementSnapshot().Sum(m => m.Value));

        await a.DisposeAsync();
        await b.DisposeAsync();
        count.RecordObservableInstruments();
        Assert.Equal(0, Last(count, "used"));
        Assert.Equal(2, Last(count, "idle"));

        Assert.Equal(3, waitTime.GetMeasurementSnapshot().Count);
        Assert.Contains(useTime.GetMeasurementSnapshot(), m => m.Value == 0.5);
        Assert.Equal(3, useTime.GetMeasurementSnapshot().Count);

        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(2, recycled.GetMeasurementSnapshot().Where(m => (string?)m.Tags["reason"] == "idle").Sum(m => m.Value));
        count.RecordObservableInstruments();
        Assert.Equal(0, Last(count, "idle"));

        pool.Saturation.Observe(80, 100);
        utilization.RecordObservableInstruments();
        alert.RecordObservableInstruments();
        Assert.Equal(0.8, utilization.LastMeasurement!.Value, 6);
        Assert.Equal(0, alert.LastMeasurement!.Value);
        time.Advance(TimeSpan.FromSeconds(60));
        pool.Saturation.Observe(81, 100);
        alert.RecordObservableInstruments();
        Assert.Equal(1, alert.LastMeasurement!.Value);

        foreach (var measurement in timeouts.GetMeasurementSnapshot().Concat(recycled.GetMeasurementSnapshot()))
        {
            Assert.Equal(pool.Name, measurement.Tags["db.client.connection.pool.name"]);
        }

        Assert.Equal("s", waitTime.Instrument!.Unit);
        Assert.Equal("s", useTime.Instrument!.Unit);
        Assert.Equal("{connection}", count.Instrument!.Unit);
    }

    [Fact]
    public async Task Lifetime_retires_idle_connections_with_per_connection_jitter()
    {
        using var meters = new TestMeters();
        using var recycled = meters.Collect<long>("resilience.pool.connection.recycled");
        var time = new FakeTimeProvider();
        await using var pool = new PostgresPool(
            Options(await services.PostgresAsync(), UniqueAppName("life"), o =>
            {
                o.MaxSize = 3;
                o.MaxLifetime = TimeSpan.FromMinutes(10);
                o.MaxLifetimeJitter = 0.5;
                o.IdleTimeout = TimeSpan.FromHours(1);
            }),
            timeProvider: time, meterFactory: meters.Factory);
        var ct = TestContext.Current.CancellationToken;

        var held = new List<Npgsql.NpgsqlConnection>();
        for (var i = 0; i < 3; i++)
        {
            held.Add(await pool.OpenConnectionAsync(ct));
        }

        var pids = held.Select(c => c.ProcessID).ToHashSet();
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Empty(recycled.GetMeasurementSnapshot()); // never under a user
        foreach (var connection in held)
        {
            await connection.DisposeAsync();
        }

        Assert.Equal(3, recycled.GetMeasurementSnapshot().Where(m => (string?)m.Tags["reason"] == "lifetime").Sum(m => m.Value));
        await using var fresh = await pool.OpenConnectionAsync(ct);
        Assert.DoesNotContain(fresh.ProcessID, pids);

        // Jitter: each physical connection's lifetime lies in [MaxLifetime x (1 - jitter), MaxLifetime].
        var slots = pool.GetSlotLifetimesForTests();
        Assert.All(slots.Where(l => l > TimeSpan.Zero), l => Assert.InRange(l, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10)));
    }

    [Fact]
    public async Task Lifetime_retirement_of_an_idle_connection_opens_its_replacement_in_the_background()
    {
        var time = new FakeTimeProvider();
        var direct = await services.PostgresAsync();
        var app = UniqueAppName("liferefill");
        await using var pool = new PostgresPool(
            Options(direct, app, o =>
            {
                o.MaxSize = 1;
                o.MaxLifetime = TimeSpan.FromMinutes(10);
                o.MaxLifetimeJitter = 0;
                o.IdleTimeout = TimeSpan.FromHours(1);
            }),
            timeProvider: time);
        var ct = TestContext.Current.CancellationToken;

        int oldPid;
        await using (var first = await pool.OpenConnectionAsync(ct))
        {
            oldPid = first.ProcessID;
        }

        // The maintenance timer finds the idle connection past its lifetime: the pool replaces it itself, so no renter
        // pays the reconnect. Until then the slot is held by the pool (busy), never handed out without a connection.
        time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(2));
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(ct);
        guard.CancelAfter(TimeSpan.FromSeconds(60));
        while (pool.GetSnapshot() is not { Idle: 1, PhysicalConnections: 1 })
        {
            await Task.Delay(10, guard.Token);
        }

        var serverPids = await BackendPidsAsync(direct, app, ct);
        var replacement = Assert.Single(serverPids);
        Assert.NotEqual(oldPid, replacement);

        await using var next = await pool.OpenConnectionAsync(ct);
        Assert.Equal(replacement, next.ProcessID);
    }

    [Fact]
    public async Task A_slot_closed_for_idleness_is_rented_only_after_the_warm_ones()
    {
        var time = new FakeTimeProvider();
        await using var pool = new PostgresPool(
            Options(await services.PostgresAsync(), UniqueAppName("coldlast"), o =>
            {
                o.MaxSize = 2;
                o.IdleTimeout = TimeSpan.FromSeconds(30);
                o.MaxLifetime = TimeSpan.FromHours(1);
            }),
            timeProvider: time);
        var ct = TestContext.Current.CancellationToken;

        var a = await pool.OpenConnectionAsync(ct);
        var b = await pool.OpenConnectionAsync(ct);
        var warmPid = b.ProcessID;
        await a.DisposeAsync();
        time.Advance(TimeSpan.FromSeconds(20));
        await b.DisposeAsync();
        time.Advance(TimeSpan.FromSeconds(11)); // a has been idle 31 s (closed), b 11 s (kept)

        Assert.Equal(1, pool.GetSnapshot().PhysicalConnections);
        await using var next = await pool.OpenConnectionAsync(ct);
        Assert.Equal(warmPid, next.ProcessID);
        Assert.Equal(1, pool.GetSnapshot().PhysicalConnections);
    }

    [Fact]
    public async Task A_lease_held_past_the_threshold_is_reported_once_with_where_it_was_rented()
    {
        using var logs = new FakeLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var time = new FakeTimeProvider();
        await using var pool = new PostgresPool(
            Options(await services.PostgresAsync(), UniqueAppName("leak"), o =>
            {
                o.MaxSize = 2;
                o.LeakThreshold = TimeSpan.FromSeconds(5);
                o.MaintenanceInterval = TimeSpan.FromSeconds(1);
            }),
            loggerFactory, time);
        var ct = TestContext.Current.CancellationToken;

        await using var leaked = await pool.RentAsync(ct);
        await using (var shortLease = await pool.RentAsync(ct))
        {
            Assert.Equal(1, await shortLease.ExecuteScalarAsync<int>("SELECT 1"));
        }

        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Empty(Leaks(logs));
        time.Advance(TimeSpan.FromSeconds(2));
        var report = Assert.Single(Leaks(logs));
        Assert.Equal(LogLevel.Warning, report.Level);
        Assert.Contains(nameof(A_lease_held_past_the_threshold_is_reported_once_with_where_it_was_rented), report.Message, StringComparison.Ordinal);
        Assert.Contains("PoolTelemetryTests.cs:line", report.Message, StringComparison.Ordinal);
        Assert.Contains($"'{pool.Name}'", report.Message, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Single(Leaks(logs));
    }

    [Fact]
    public async Task Leak_report_shows_a_stack_trace_when_capture_is_on()
    {
        using var logs = new FakeLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        var time = new FakeTimeProvider();
        await using var pool = new PostgresPool(
            Options(await services.PostgresAsync(), UniqueAppName("leakst"), o =>
            {
                o.MaxSize = 1;
                o.LeakThreshold = TimeSpan.FromSeconds(5);
                o.CaptureRentStackTrace = true;
            }),
            loggerFactory, time);

        await using var leaked = await pool.OpenConnectionAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(6));
        var report = Assert.Single(Leaks(logs));
        Assert.Contains(nameof(Leak_report_shows_a_stack_trace_when_capture_is_on), report.Message, StringComparison.Ordinal);
    }

    private static int Last(Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<int> collector, string state) =>
        collector.GetMeasurementSnapshot().Last(m => (string?)m.Tags["db.client.connection.state"] == state).Value;

    private static async Task<List<int>> BackendPidsAsync(string direct, string appName, CancellationToken ct)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(direct) { Pooling = false, ApplicationName = "pool-test-observer" };
        await using var connection = new Npgsql.NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(ct);
        return (await connection.QueryAsync<int>(
            new CommandDefinition("SELECT pid FROM pg_stat_activity WHERE application_name = @appName", new { appName }, cancellationToken: ct))).ToList();
    }

    private static List<FakeLogRecord> Leaks(FakeLoggerProvider logs) =>
        logs.Collector.GetSnapshot().Where(r => r.Id.Id == 1 && r.Category == typeof(PostgresPool).FullName).ToList();
}
