using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.TestSupport;
using StackExchange.Redis;

namespace Resilience.Locks.Tests;

public sealed class DependencyInjectionTests(ServiceFixture services) : LockTestBase(services)
{
    [Fact]
    public async Task Default_instance_uses_the_containers_multiplexer_and_time_provider()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var collection = new ServiceCollection()
            .AddSingleton(Redis)
            .AddSingleton<TimeProvider>(time)
            .AddRedisLocks(o =>
            {
                o.KeyPrefix = Prefix;
                o.TtlMode = LockTtlMode.Fixed;
                o.Ttl = TimeSpan.FromSeconds(10);
            });
        await using var sp = collection.BuildServiceProvider(validateScopes: true);
        sp.GetRequiredService<IStartupValidator>().Validate();

        var locks = sp.GetRequiredService<RedisLockProvider>();
        Assert.Same(locks, sp.GetRequiredService<RedisLockProvider>());
        Assert.Equal(RedisLockProvider.DefaultName, locks.Name);
        await using var handle = await locks.AcquireAsync("r", "alice");
        Assert.Equal($"{{{Prefix}:r}}:lock", locks.GetLockKey("r"));
        Assert.True(await Db.KeyExistsAsync(locks.GetLockKey("r")));

        time.Advance(TimeSpan.FromSeconds(11));
        Assert.True(handle.IsLost); // the container's TimeProvider drives the lease clock
    }

    [Fact]
    public async Task Named_instances_are_keyed_and_use_the_name_as_key_prefix()
    {
        var name = Prefix + "-grading";
        var collection = new ServiceCollection()
            .AddSingleton(Redis)
            .AddRedisLocks(name, o => o.TtlMode = LockTtlMode.Fixed)
            .AddRedisLocks(Prefix + "-other", o => o.Ttl = TimeSpan.FromSeconds(40));
        await using var sp = collection.BuildServiceProvider();
        sp.GetRequiredService<IStartupValidator>().Validate();

        var grading = sp.GetRequiredKeyedService<RedisLockProvider>(name);
        var other = sp.GetRequiredKeyedService<RedisLockProvider>(Prefix + "-other");
        Assert.NotSame(grading, other);
        Assert.Equal(name, grading.Name);
        Assert.Equal($"{{{name}:user-1}}:lock", grading.GetLockKey("user-1"));
        Assert.Equal(TimeSpan.FromSeconds(40), other.CurrentTtl);

        await using (var handle = await grading.AcquireAsync("user-1", "user-1"))
        {
            Assert.True(await grading.IsLockedAsync("user-1"));
            Assert.False(await other.IsLockedAsync("user-1"));
        }

        await DeleteKeysAsync(Redis, name);
    }

    [Fact]
    public void Invalid_options_fail_at_start_with_every_problem_listed()
    {
        var collection = new ServiceCollection()
            .AddSingleton(Redis)
            .AddRedisLocks(o =>
            {
                o.MinTtl = TimeSpan.FromSeconds(60);
                o.MaxTtl = TimeSpan.FromSeconds(10);
                o.Ttl = TimeSpan.FromSeconds(-3);
                o.KeyPrefix = " ";
            });
        using var sp = collection.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(error.Failures, f => f.Contains("MinTtl", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("RedisLockOptions.Ttl (", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("KeyPrefix", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_a_multiplexer_or_a_configuration_string_start_fails_naming_the_setting()
    {
        using var sp = new ServiceCollection().AddRedisLocks().BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(error.Failures, f => f.Contains("RedisLockOptions.Configuration", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Creates_and_owns_a_connection_from_the_configuration_string_bound_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Locks:Configuration"] = await Services.RedisConfigurationAsync(),
            ["Locks:KeyPrefix"] = Prefix,
            ["Locks:TtlMode"] = "Fixed",
            ["Locks:Ttl"] = "00:00:07",
        }).Build();
        var sp = new ServiceCollection().AddRedisLocks(configuration.GetSection("Locks")).BuildServiceProvider();
        sp.GetRequiredService<IStartupValidator>().Validate();

        var locks = sp.GetRequiredService<RedisLockProvider>();
        Assert.Equal(TimeSpan.FromSeconds(7), locks.CurrentTtl);
        await using (var handle = await locks.AcquireAsync("r", "alice"))
        {
            Assert.Equal(TimeSpan.FromSeconds(7), handle.Ttl);
        }

        Assert.False(await Db.KeyExistsAsync(locks.GetLockKey("r")));
        await sp.DisposeAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => locks.AcquireAsync("r", "alice", TimeSpan.Zero).AsTask());
    }

    [Fact]
    public void Registration_is_idempotent()
    {
        var collection = new ServiceCollection().AddSingleton(Redis).AddRedisLocks().AddRedisLocks();
        Assert.Single(collection, d => d.ServiceType == typeof(RedisLockProvider));
        Assert.Single(collection, d => d.ServiceType == typeof(IValidateOptions<RedisLockOptions>));
        Assert.Single(collection, d => d.ServiceType == typeof(TimeProvider));
        _ = typeof(IConnectionMultiplexer);
    }
}
