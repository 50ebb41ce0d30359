using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Resilience.TestSupport;
using static Resilience.Pooling.Tests.PoolTestHelpers;

namespace Resilience.Pooling.Tests;

/// <summary>The fleet connection budget: pure arithmetic, then against the real server and PgBouncer, then at host start.</summary>
public sealed class FleetBudgetTests(ServiceFixture services)
{
    private static readonly ServerLimits Pg15With200 = new(200, 3, 0, 150010);

    [Fact]
    public void Refuses_4_boxes_x_6_workers_x_50_against_max_connections_200_and_shows_the_arithmetic()
    {
        var options = Fleet(maxSize: 50, boxes: 4, workers: 6);
        var report = FleetBudget.Evaluate(options, Pg15With200);
        Assert.False(report.Fits);
        Assert.Equal(1200, report.FleetConnections);
        Assert.Equal(192, report.Available);
        Assert.Contains(
            "4 boxes x 6 workers x MaxSize 50 = 1200 connections > max_connections 200 - superuser_reserved_connections 3 - reserved_connections 0 - headroom 5 = 192",
            report.Arithmetic, StringComparison.Ordinal);
    }

    [Fact]
    public void Accepts_4_boxes_x_6_workers_x_8_against_max_connections_200()
    {
        var report = FleetBudget.Evaluate(Fleet(maxSize: 8, boxes: 4, workers: 6), Pg15With200);
        Assert.True(report.Fits);
        Assert.Contains("4 boxes x 6 workers x MaxSize 8 = 192 connections <= max_connections 200", report.Arithmetic, StringComparison.Ordinal);
    }

    [Fact]
    public void PostgreSQL_16_reserved_connections_are_subtracted()
    {
        var report = FleetBudget.Evaluate(Fleet(maxSize: 8, boxes: 4, workers: 6), new ServerLimits(200, 3, 10, 160002));
        Assert.False(report.Fits);
        Assert.Contains("reserved_connections 10 - headroom 5 = 182", report.Arithmetic, StringComparison.Ordinal);
    }

    [Fact]
    public void Through_PgBouncer_the_declared_limits_are_checked_and_the_rest_is_said_to_be_unchecked()
    {
        var undeclared = Fleet(maxSize: 8, boxes: 40, workers: 6);
        undeclared.Target = PoolTarget.PgBouncerTransaction;
        var report = FleetBudget.Evaluate(undeclared, Pg15With200);
        Assert.True(report.Fits);
        Assert.Contains("not checked", report.Arithmetic, StringComparison.Ordinal);

        var declared = Fleet(maxSize: 8, boxes: 40, workers: 6);
        declared.Target = PoolTarget.PgBouncerTransaction;
        declared.Fleet.PgBouncerMaxClientConnections = 1000;
        declared.Fleet.PgBouncerServerConnections = 150;
        report = FleetBudget.Evaluate(declared, Pg15With200);
        Assert.False(report.Fits);
        Assert.Contains("1920 connections > PgBouncer max_client_conn 1000", report.Arithmetic, StringComparison.Ordinal);
        Assert.Contains("PgBouncer server connections 150 <= max_connections 200", report.Arithmetic, StringComparison.Ordinal);
    }

    [Property(MaxTest = 300)]
    public Property Fits_exactly_when_the_fleet_is_within_admitted_minus_headroom()
    {
        var gen =
            from maxSize in Gen.Choose(1, 10)
            from boxes in Gen.Choose(1, 50)
            from workers in Gen.Choose(1, 50)
            from maxConnections in Gen.Choose(1, 5000)
            from superuser in Gen.Choose(0, 20)
            from reserved in Gen.Choose(0, 20)
            from headroom in Gen.Choose(0, 50)
            select (maxSize, boxes, workers, maxConnections, superuser, reserved, headroom);
        return Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var options = Fleet(t.maxSize, t.boxes, t.workers);
            options.Fleet.Headroom = t.headroom;
            var report = FleetBudget.Evaluate(options, new ServerLimits(t.maxConnections, t.superuser, t.reserved, 160000));
            var expected = t.boxes * t.workers * t.maxSize <= t.maxConnections - t.superuser - t.reserved - t.headroom;
            return report.Fits == expected
                && report.Arithmetic.Contains($"= {t.boxes * t.workers * t.maxSize} connections", StringComparison.Ordinal)
                && report.Arithmetic.Contains($"= {t.maxConnections - t.superuser - t.reserved - t.headroom}", StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Reads_the_real_server_limits_and_refuses_a_fleet_that_does_not_fit()
    {
        var facts = await services.PostgresFactsAsync();
        var ct = TestContext.Current.CancellationToken;
        var fits = Options(await services.PostgresAsync(), UniqueAppName("budget"), o => { o.MaxSize = 2; o.Fleet.Boxes = 2; o.Fleet.WorkersPerBox = 2; });
        await using (var pool = await PostgresPool.CreateAsync(fits, cancellationToken: ct))
        {
            var report = await pool.CheckBudgetAsync(ct);
            Assert.True(report.Fits);
            Assert.Equal(facts.MaxConnections, report.Server.MaxConnections);
            Assert.Equal(facts.SuperuserReservedConnections, report.Server.SuperuserReservedConnections);
            Assert.Equal(facts.ServerVersionNum, report.Server.ServerVersionNum);
        }

        var tooBig = Options(await services.PostgresAsync(), UniqueAppName("budget"), o => { o.MaxSize = 8; o.Fleet.Boxes = 4; o.Fleet.WorkersPerBox = 6; });
        var ex = await Assert.ThrowsAsync<FleetBudgetExceededException>(() => PostgresPool.CreateAsync(tooBig, cancellationToken: ct));
        Assert.Contains($"= 192 connections > max_connections {facts.MaxConnections}", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Through_PgBouncer_the_server_limits_are_still_read()
    {
        var facts = await services.PostgresFactsAsync();
        var ct = TestContext.Current.CancellationToken;
        var options = Options(await services.PgBouncerAsync(), UniqueAppName("budgetpgb"), o =>
        {
            o.MaxSize = 2;
            o.Target = PoolTarget.PgBouncerTransaction;
            o.Fleet.Boxes = 4;
            o.Fleet.WorkersPerBox = 6;
            o.Fleet.PgBouncerMaxClientConnections = 5000;
            o.Fleet.PgBouncerServerConnections = 40;
        });
        await using var pool = await PostgresPool.CreateAsync(options, cancellationToken: ct);
        var report = await pool.CheckBudgetAsync(ct);
        Assert.True(report.Fits, report.Arithmetic);
        Assert.Equal(facts.MaxConnections, report.Server.MaxConnections);
        Assert.Contains("PgBouncer server connections 40 <=", report.Arithmetic, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_refuses_to_start_when_the_fleet_does_not_fit()
    {
        var connectionString = await services.PostgresAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddPostgresPool("orders", o =>
        {
            o.ConnectionString = connectionString;
            o.Fleet.Boxes = 4;
            o.Fleet.WorkersPerBox = 6;
        });
        using var host = builder.Build();
        var ex = await Assert.ThrowsAsync<FleetBudgetExceededException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Equal("orders", ex.PoolName);
        Assert.False(ex.Report.Fits);
    }

    private static PostgresPoolOptions Fleet(int maxSize, int boxes, int workers) => new()
    {
        ConnectionString = "Host=127.0.0.1;Database=x;Username=u",
        MaxSize = maxSize,
        AllowMaxSizeAbove10 = maxSize > 10,
        Fleet = new FleetBudgetOptions { Boxes = boxes, WorkersPerBox = workers },
    };
}
