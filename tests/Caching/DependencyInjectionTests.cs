using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.Caching;

namespace Resilience.Caching.Tests;

public sealed class DependencyInjectionTests
{
    [Fact]
    public void Named_caches_are_separate_keyed_singletons_with_their_own_options()
    {
        var time = new FakeTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(time);
        services.AddLruCache<string, string>("prompts", o => o.Capacity = 200);
        services.AddLruCache<string, string>("sessions", o =>
        {
            o.Capacity = 10;
            o.TimeToLive = TimeSpan.FromMinutes(1);
        });
        services.AddLruCache<string, string>(o => o.Capacity = 5);
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var prompts = provider.GetRequiredKeyedService<LruCache<string, string>>("prompts");
        var sessions = provider.GetRequiredKeyedService<LruCache<string, string>>("sessions");
        var unnamed = provider.GetRequiredService<LruCache<string, string>>();

        Assert.NotSame(prompts, sessions);
        Assert.Same(prompts, provider.GetRequiredKeyedService<LruCache<string, string>>("prompts"));
        Assert.Equal(200, prompts.Capacity);
        Assert.Equal("prompts", prompts.Name);
        Assert.Equal(10, sessions.Capacity);
        Assert.Equal(5, unnamed.Capacity);

        sessions.Set("s", "1");
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(sessions.TryGetValue("s", out _));
    }

    [Fact]
    public void Invalid_options_fail_at_start_listing_every_problem()
    {
        var services = new ServiceCollection();
        services.AddLruCache<string, string>("bad", o => o.TimeToLive = TimeSpan.Zero);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(error.Failures, f => f.StartsWith("Capacity", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("TimeToLive", StringComparison.Ordinal));
    }

    [Fact]
    public void A_cache_binds_from_configuration()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Caches:Users:Capacity"] = "200", ["Caches:Users:TimeToLive"] = "00:05:00", ["Caches:Users:WeightCap"] = "819200" })
            .Build();
        var services = new ServiceCollection();
        services.AddLruCache<string, byte[]>("users", configuration.GetSection("Caches:Users"), o => o.Weigher = static (_, v) => v.Length);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var cache = provider.GetRequiredKeyedService<LruCache<string, byte[]>>("users");

        Assert.Equal(200, cache.Capacity);
        Assert.Equal(819_200, cache.WeightCap);
    }

    [Fact]
    public void AddCappedMemoryCache_replaces_IMemoryCache_so_call_sites_get_the_cap()
    {
        var services = new ServiceCollection();
        services.AddMemoryCache();
        services.AddCappedMemoryCache(o => o.Capacity = 200);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var cache = provider.GetRequiredService<IMemoryCache>();
        var capped = Assert.IsType<CappedMemoryCache>(cache);
        Assert.Same(capped, provider.GetRequiredService<CappedMemoryCache>());
        for (var i = 0; i < 2400; i++)
        {
            cache.Set($"user-{i}", new byte[16]);
        }

        Assert.Equal(200, capped.Count);
        Assert.True(cache.TryGetValue("user-2399", out _));
    }

    [Fact]
    public void Named_IMemoryCache_registrations_are_keyed()
    {
        var services = new ServiceCollection();
        services.AddCappedMemoryCache("a", o => o.Capacity = 1);
        services.AddCappedMemoryCache("b", o => o.Capacity = 2);
        using var provider = services.BuildServiceProvider();

        var a = provider.GetRequiredKeyedService<IMemoryCache>("a");
        var b = provider.GetRequiredKeyedService<IMemoryCache>("b");
        a.Set("x", 1);
        a.Set("y", 2);
        b.Set("x", 1);
        b.Set("y", 2);

        Assert.Equal(1, ((CappedMemoryCache)a).Count);
        Assert.Equal(2, ((CappedMemoryCache)b).Count);
    }

    [Fact]
    public void AddMemoryGrowthWatch_starts_sampling_on_the_container_time_provider()
    {
        var time = new FakeTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(time);
        services.AddMemoryGrowthWatch(o => o.SampleInterval = TimeSpan.FromSeconds(5));
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var watch = provider.GetRequiredService<MemoryGrowthWatch>();
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(3, watch.Snapshot.SampleCount);
        Assert.True(watch.Snapshot.ResidentBytes > 0);
    }

    [Fact]
    public void Invalid_watch_options_fail_at_start()
    {
        var services = new ServiceCollection();
        services.AddMemoryGrowthWatch(o => o.GrowthThresholdBytes = -5);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(error.Failures, f => f.StartsWith("GrowthThresholdBytes", StringComparison.Ordinal));
    }
}
