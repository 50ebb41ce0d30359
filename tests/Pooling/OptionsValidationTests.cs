using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Resilience.Pooling.Tests;

/// <summary>Bad options fail at start with one exception listing every problem; passwords never leak into messages.</summary>
public sealed class OptionsValidationTests
{
    private const string Valid = "Host=127.0.0.1;Port=1;Database=x;Username=u;Password=hunter2-secret";

    [Fact]
    public void Every_problem_is_listed_in_one_exception()
    {
        var options = new PostgresPoolOptions
        {
            ConnectionString = null,
            MaxSize = 0,
            MaxUses = -1,
            AcquireTimeout = TimeSpan.Zero,
            MaxLifetime = TimeSpan.FromSeconds(-1),
            MaxLifetimeJitter = 0.9,
            IdleTimeout = TimeSpan.Zero,
            MaintenanceInterval = TimeSpan.Zero,
            LeakThreshold = TimeSpan.FromSeconds(-5),
            Fleet = new FleetBudgetOptions { Boxes = 0, Headroom = -1 },
            Saturation = new SaturationWatchOptions { Threshold = 1.5, Window = TimeSpan.Zero, SampleInterval = TimeSpan.Zero },
        };
        var ex = Assert.Throws<PoolOptionsException>(() => new PostgresPool(options));
        foreach (var field in new[]
        {
            "ConnectionString", "MaxSize", "MaxUses", "AcquireTimeout", "MaxLifetime ", "MaxLifetimeJitter", "IdleTimeout",
            "MaintenanceInterval", "LeakThreshold", "Fleet.Boxes", "Fleet.Headroom", "Saturation.Threshold", "Saturation.Window",
            "Saturation.SampleInterval",
        })
        {
            Assert.Contains(ex.Problems, p => p.StartsWith(field, StringComparison.Ordinal));
        }

        Assert.True(ex.Problems.Count >= 14);
    }

    [Fact]
    public void MaxSize_above_10_needs_the_opt_in()
    {
        var ex = Assert.Throws<PoolOptionsException>(() => new PostgresPool(new PostgresPoolOptions { ConnectionString = Valid, MaxSize = 11 }));
        Assert.Contains("AllowMaxSizeAbove10", Assert.Single(ex.Problems), StringComparison.Ordinal);
        using var pool = new PostgresPool(new PostgresPoolOptions { ConnectionString = Valid, MaxSize = 11, AllowMaxSizeAbove10 = true });
        Assert.Equal(11, pool.MaxSize);
    }

    [Property(MaxTest = 200)]
    public Property MaxSize_above_the_hard_limit_is_refused_even_with_the_opt_in_and_listed_with_the_other_problems(PositiveInt excess)
    {
        var maxSize = (int)Math.Min(int.MaxValue, (long)PostgresPoolOptions.MaxSizeLimit + excess.Get);
        var options = new PostgresPoolOptions { ConnectionString = Valid, MaxSize = maxSize, AllowMaxSizeAbove10 = true, MaxUses = 0 };
        var ex = Assert.Throws<PoolOptionsException>(() => new PostgresPool(options));
        return (ex.Problems.Count == 2
            && ex.Problems.Any(p => p.StartsWith("MaxSize", StringComparison.Ordinal) && p.Contains(PostgresPoolOptions.MaxSizeLimit.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))
            && ex.Problems.Any(p => p.StartsWith("MaxUses", StringComparison.Ordinal))).ToProperty();
    }

    [Fact]
    public void MaxSize_int_MaxValue_is_refused_with_a_typed_exception_not_out_of_memory()
    {
        var ex = Assert.Throws<PoolOptionsException>(() => new PostgresPool(new PostgresPoolOptions { ConnectionString = Valid, MaxSize = int.MaxValue, AllowMaxSizeAbove10 = true }));
        Assert.Contains("MaxSize", Assert.Single(ex.Problems), StringComparison.Ordinal);
        using var atLimit = new PostgresPool(new PostgresPoolOptions { ConnectionString = Valid, MaxSize = PostgresPoolOptions.MaxSizeLimit, AllowMaxSizeAbove10 = true });
        Assert.Equal(PostgresPoolOptions.MaxSizeLimit, atLimit.MaxSize);
    }

    [Fact]
    public void Defaults_match_the_issue()
    {
        var options = new PostgresPoolOptions();
        Assert.Equal(8, options.MaxSize);
        Assert.Equal(1000, options.MaxUses);
        Assert.True(options.UseVector);
        Assert.Equal(0.70, options.Saturation.Threshold);
        Assert.Equal(TimeSpan.FromSeconds(60), options.Saturation.Window);
    }

    [Fact]
    public void PgBouncer_profile_sets_no_reset_on_close_and_turns_automatic_preparation_off()
    {
        using var pool = new PostgresPool(new PostgresPoolOptions { ConnectionString = Valid + ";Max Auto Prepare=20", Target = PoolTarget.PgBouncerTransaction });
        var settings = new Npgsql.NpgsqlConnectionStringBuilder(pool.ConnectionString);
        Assert.True(settings.NoResetOnClose);
        Assert.Equal(0, settings.MaxAutoPrepare);
        Assert.Equal(1, settings.MaxPoolSize);

        using var declared = new PostgresPool(new PostgresPoolOptions
        {
            ConnectionString = Valid + ";Max Auto Prepare=20",
            Target = PoolTarget.PgBouncerTransaction,
            PgBouncerPreparedStatements = true,
        });
        Assert.Equal(20, new Npgsql.NpgsqlConnectionStringBuilder(declared.ConnectionString).MaxAutoPrepare);
    }

    [Fact]
    public void A_password_never_appears_in_messages_or_the_connection_string()
    {
        using var pool = new PostgresPool(new PostgresPoolOptions { ConnectionString = Valid });
        Assert.DoesNotContain("hunter2", pool.ConnectionString, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", pool.Target, StringComparison.Ordinal);

        var ex = Assert.Throws<PoolOptionsException>(() => new PostgresPool(new PostgresPoolOptions
        {
            ConnectionString = "Host=h;Password=hunter2-secret;Frobnicate=yes",
            MaxSize = 0,
        }));
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, ex.Problems.Count);
    }

    [Property(MaxTest = 200)]
    public Property Sizes_and_uses_at_or_below_zero_are_refused_and_named()
    {
        var gen =
            from maxSize in Gen.Choose(-1000, 10)
            from maxUses in Gen.Choose(-1000, 5000)
            select (maxSize, maxUses);
        return Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var options = new PostgresPoolOptions { ConnectionString = Valid, MaxSize = t.maxSize, MaxUses = t.maxUses };
            var problems = PostgresPoolOptionsValidator.Problems(options);
            var sizeBad = t.maxSize <= 0;
            var usesBad = t.maxUses <= 0;
            return problems.Count == (sizeBad ? 1 : 0) + (usesBad ? 1 : 0)
                && problems.Any(p => p.StartsWith("MaxSize", StringComparison.Ordinal)) == sizeBad
                && problems.Any(p => p.StartsWith("MaxUses", StringComparison.Ordinal)) == usesBad;
        });
    }

    [Property(MaxTest = 500)]
    public Property Hostile_connection_strings_never_leak_a_password(NonEmptyString garbage)
    {
        var secret = "S3cr3t" + Guid.NewGuid().ToString("N");
        var connectionString = $"{garbage.Get};Password={secret};{garbage.Get}";
        var problems = PostgresPoolOptionsValidator.Problems(new PostgresPoolOptions { ConnectionString = connectionString });
        return problems.All(p => !p.Contains(secret, StringComparison.Ordinal)).ToProperty();
    }

    [Fact]
    public async Task DI_validates_on_start_and_lists_every_problem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddPostgresPool("bad", o => { o.MaxSize = 0; o.MaxUses = 0; });
        using var host = builder.Build();
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains(ex.Failures, f => f.StartsWith("ConnectionString", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.StartsWith("MaxSize", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.StartsWith("MaxUses", StringComparison.Ordinal));
    }

    [Fact]
    public void DI_binds_a_configuration_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pool:ConnectionString"] = Valid,
            ["Pool:MaxSize"] = "4",
            ["Pool:MaxUses"] = "50",
            ["Pool:Fleet:Boxes"] = "2",
            ["Pool:Fleet:WorkersPerBox"] = "3",
        }).Build();
        var services = new ServiceCollection().AddPostgresPool("configured", configuration.GetSection("Pool"));
        using var provider = services.BuildServiceProvider();
        var pool = provider.GetRequiredKeyedService<PostgresPool>("configured");
        Assert.Equal(4, pool.MaxSize);
        Assert.Equal(50, pool.Options.MaxUses);
        Assert.Equal(2, pool.Options.Fleet.Boxes);
        Assert.Equal("configured", pool.Name);
    }
}
