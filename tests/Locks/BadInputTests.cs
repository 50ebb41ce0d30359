using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Options;
using Resilience.TestSupport;
using StackExchange.Redis;

namespace Resilience.Locks.Tests;

public sealed class BadInputTests(ServiceFixture services) : LockTestBase(services)
{
    public static TheoryData<string> InvalidNames => new()
    {
        null!,
        string.Empty,
        " ",
        "\t\r\n",
        "\u00a0\u2003",
        new string('x', RedisLockOptions.MaxNameLength + 1),
        new string(' ', 1000),
    };

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task Invalid_resource_names_are_typed_errors_at_every_call_and_lock_nothing(string? resource)
    {
        var locks = NewProvider();
        var calls = new Func<Task>[]
        {
            () => locks.TryAcquireAsync(resource!, "alice").AsTask(),
            () => locks.AcquireAsync(resource!, "alice").AsTask(),
            () => locks.RunAsync(resource!, "alice", (_, _) => Task.CompletedTask),
            () => locks.ForceReleaseAsync(resource!, "alice"),
            () => locks.GetLockInfoAsync(resource!),
            () => Task.FromResult(locks.GetLockKey(resource!)),
        };
        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<InvalidLockArgumentException>(call);
            Assert.Equal("resource", error.ParameterName);
            Assert.Contains("resource", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, await KeyCountAsync());
    }

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task Invalid_owner_ids_are_typed_errors_and_lock_nothing(string? owner)
    {
        var locks = NewProvider();
        var e1 = await Assert.ThrowsAsync<InvalidLockArgumentException>(() => locks.TryAcquireAsync("r", owner!).AsTask());
        var e2 = await Assert.ThrowsAsync<InvalidLockArgumentException>(() => locks.AcquireAsync("r", owner!).AsTask());
        var e3 = await Assert.ThrowsAsync<InvalidLockArgumentException>(() => locks.ForceReleaseAsync("r", owner!));
        Assert.Equal("ownerId", e1.ParameterName);
        Assert.Equal("ownerId", e2.ParameterName);
        Assert.Equal("authenticatedOwnerId", e3.ParameterName);
        Assert.Equal(0, await KeyCountAsync());
    }

    [Fact]
    public async Task A_negative_timeout_and_a_non_positive_extension_are_typed_errors()
    {
        var locks = NewProvider();
        var timeout = await Assert.ThrowsAsync<InvalidLockArgumentException>(() => locks.AcquireAsync("r", "o", TimeSpan.FromSeconds(-1)).AsTask());
        Assert.Equal("timeout", timeout.ParameterName);
        Assert.Equal(0, await KeyCountAsync());

        await using var handle = await locks.AcquireAsync("r", "o");
        var ttl = await Assert.ThrowsAsync<InvalidLockArgumentException>(() => handle.ExtendAsync(TimeSpan.Zero).AsTask());
        Assert.Equal("ttl", ttl.ParameterName);
        await Assert.ThrowsAsync<InvalidLockArgumentException>(() => handle.ExtendAsync(TimeSpan.FromSeconds(-5)).AsTask());
        await Assert.ThrowsAsync<InvalidLockArgumentException>(() => handle.ExtendAsync(TimeSpan.FromDays(2)).AsTask());
        Assert.True(await locks.IsLockedAsync("r"));
    }

    [Property(MaxTest = 60)]
    public async Task Any_valid_resource_and_owner_round_trip_exactly_and_share_one_cluster_slot(NonEmptyString resourceSeed, NonEmptyString ownerSeed)
    {
        // Hostile but valid: braces, newlines, control and non-ASCII characters, up to the length limit.
        var resource = Clip("{" + resourceSeed.Get + "}\n");
        var owner = Clip(ownerSeed.Get + "}{ü");
        var locks = NewProvider();

        var handle = await locks.TryAcquireAsync(resource, owner);
        Assert.NotNull(handle);
        var info = await locks.GetLockInfoAsync(resource);
        Assert.Equal(owner, info!.OwnerId);
        Assert.Equal(handle.FencingToken, info.FencingToken);
        Assert.Equal(Redis.HashSlot(locks.GetLockKey(resource)), Redis.HashSlot(LockKeyToFenceKey(locks.GetLockKey(resource))));
        Assert.False(await locks.ForceReleaseAsync(resource, owner + "x"));
        Assert.True(await locks.ForceReleaseAsync(resource, owner));
        Assert.False(await locks.IsLockedAsync(resource));
        Assert.Equal(LockReleaseOutcome.AlreadyExpired, await handle.ReleaseAsync());
    }

    [Property(MaxTest = 200)]
    public void Whitespace_or_over_long_names_are_always_rejected_before_anything_is_sent(PositiveInt length, bool overLong)
    {
        var locks = NewProvider();
        var name = overLong
            ? new string('a', RedisLockOptions.MaxNameLength + (length.Get % 1000) + 1)
            : new string(" \t\r\n\u2028\u3000"[length.Get % 6], (length.Get % 300) + 1);

        var error = Assert.Throws<InvalidLockArgumentException>(() => locks.GetLockKey(name));
        Assert.Equal("resource", error.ParameterName);
        var acquire = locks.TryAcquireAsync("r", name);
        Assert.True(acquire.IsFaulted);
        Assert.IsType<InvalidLockArgumentException>(acquire.AsTask().Exception!.InnerException);
    }

    [Fact]
    public void Bad_options_fail_at_construction_with_one_exception_listing_every_problem()
    {
        var options = new RedisLockOptions
        {
            KeyPrefix = "has{brace}",
            Ttl = TimeSpan.Zero,
            MinTtl = TimeSpan.FromMinutes(5),
            MaxTtl = TimeSpan.FromMinutes(1),
            TtlBuffer = TimeSpan.FromSeconds(-1),
            AdaptiveMinSamples = 0,
            RetryDelayMin = TimeSpan.FromSeconds(2),
            RetryDelayMax = TimeSpan.FromSeconds(1),
            ReleaseRetryAttempts = -1,
            HoldTimeAlertThreshold = TimeSpan.Zero,
            MaxHoldTime = TimeSpan.FromDays(3),
        };

        var error = Assert.Throws<OptionsValidationException>(() => new RedisLockProvider(Redis, options));

        Assert.Contains(error.Failures, f => f.Contains("KeyPrefix", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("RedisLockOptions.Ttl (", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("MinTtl (00:05:00) must not be greater than RedisLockOptions.MaxTtl (00:01:00)", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("TtlBuffer", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("AdaptiveMinSamples", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("RetryDelayMax", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("ReleaseRetryAttempts", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("HoldTimeAlertThreshold", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("MaxHoldTime (3.00:00:00) must not exceed 1.00:00:00", StringComparison.Ordinal));
        Assert.True(error.Failures.Count() >= 9);
    }

    [Theory]
    [InlineData(0, 64, "MaxCallsInFlight (0) must be between 1 and 64")]
    [InlineData(65, 64, "MaxCallsInFlight (65) must be between 1 and 64")]
    [InlineData(2, 1, "MaxCombinedCalls (1) must be between 2 and 1000")]
    [InlineData(2, 1001, "MaxCombinedCalls (1001) must be between 2 and 1000")]
    public void Combining_limits_out_of_range_are_rejected_at_start(int inFlight, int perCall, string rule)
    {
        var error = Assert.Throws<OptionsValidationException>(() => new RedisLockProvider(Redis, new RedisLockOptions
        {
            KeyPrefix = Prefix,
            MaxCallsInFlight = inFlight,
            MaxCombinedCalls = perCall,
        }));
        Assert.Contains(rule, Assert.Single(error.Failures), StringComparison.Ordinal);

        // The bounds themselves are valid, with combining on or off.
        using var low = new RedisLockProvider(Redis, new RedisLockOptions { KeyPrefix = Prefix, MaxCallsInFlight = 1, MaxCombinedCalls = 2 });
        using var high = new RedisLockProvider(Redis, new RedisLockOptions { KeyPrefix = Prefix, MaxCallsInFlight = 64, MaxCombinedCalls = 1000, CombineCalls = false });
        Assert.NotNull(low.Acquires);
        Assert.Null(high.Acquires);
    }

    [Theory]
    [InlineData("X:grading")]
    [InlineData("a{b")]
    [InlineData("a}b")]
    [InlineData(":")]
    public void A_key_prefix_with_a_separator_or_brace_fails_validation(string prefix)
    {
        var error = Assert.Throws<OptionsValidationException>(() => new RedisLockProvider(Redis, new RedisLockOptions { KeyPrefix = prefix }));
        var failure = Assert.Single(error.Failures);
        Assert.Contains("KeyPrefix", failure, StringComparison.Ordinal);
        Assert.Contains("':'", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_lock_names_can_no_longer_share_keys_through_a_colon_in_the_prefix()
    {
        // Prefix "X" + resource "grading:42" and prefix "X:grading" + resource "42" used to map to one key.
        using var x = new RedisLockProvider(Redis, new RedisLockOptions { KeyPrefix = Prefix });
        Assert.Equal($"{{{Prefix}:grading:42}}:lock", x.GetLockKey("grading:42"));
        Assert.Throws<OptionsValidationException>(() => new RedisLockProvider(Redis, new RedisLockOptions { KeyPrefix = Prefix + ":grading" }));
    }

    [Property(MaxTest = 200)]
    public void Distinct_prefix_and_resource_pairs_never_share_a_key(NonEmptyString p1, NonEmptyString r1, NonEmptyString p2, NonEmptyString r2)
    {
        // The prefix ends at the first ':' of a key, so (prefix, resource) is recoverable from the key: no two pairs collide.
        static string? Prefix(string seed)
        {
            var value = new string([.. seed.Where(c => c is not (':' or '{' or '}') && !char.IsSurrogate(c)).Take(RedisLockOptions.MaxKeyPrefixLength)]);
            return string.IsNullOrWhiteSpace(value) ? null : value;
        }

        var prefix1 = Prefix(p1.Get) ?? "a";
        var prefix2 = Prefix(p2.Get) ?? "a";
        using var a = new RedisLockProvider(Redis, new RedisLockOptions { KeyPrefix = prefix1 });
        using var b = new RedisLockProvider(Redis, new RedisLockOptions { KeyPrefix = prefix2 });
        static string Resource(string seed) => Clip(":" + new string([.. seed.Where(c => !char.IsSurrogate(c))]));
        var resource1 = Resource(r1.Get);
        var resource2 = r2.Get.Length % 2 == 0 ? resource1 : Resource(r2.Get);

        var same = a.GetLockKey(resource1) == b.GetLockKey(resource2);
        Assert.Equal(prefix1 == prefix2 && resource1 == resource2, same);
    }

    [Fact]
    public void A_negative_or_over_long_expiry_safety_margin_fails_validation()
    {
        foreach (var margin in new[] { TimeSpan.FromTicks(-1), TimeSpan.FromSeconds(2) })
        {
            var error = Assert.Throws<OptionsValidationException>(() => new RedisLockProvider(Redis, new RedisLockOptions { KeyPrefix = Prefix, ExpirySafetyMargin = margin }));
            Assert.Contains(error.Failures, f => f.Contains("ExpirySafetyMargin", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Options_changed_after_construction_do_not_affect_the_provider()
    {
        var options = new RedisLockOptions { KeyPrefix = Prefix, TtlMode = LockTtlMode.Fixed, Ttl = TimeSpan.FromSeconds(7) };
        using var locks = new RedisLockProvider(Redis, options);
        options.Ttl = TimeSpan.FromSeconds(-1);
        Assert.Equal(TimeSpan.FromSeconds(7), locks.CurrentTtl);
    }

    private static string Clip(string value) => value.Length > RedisLockOptions.MaxNameLength ? value[..RedisLockOptions.MaxNameLength] : value;

    private static RedisKey LockKeyToFenceKey(string lockKey) => lockKey[..^":lock".Length] + ":fence";

    private async Task<int> KeyCountAsync()
    {
        var server = Redis.GetServer(Redis.GetEndPoints()[0]);
        var count = 0;
        await foreach (var _ in server.KeysAsync(pattern: "{" + Prefix + ":*"))
        {
            count++;
        }

        return count;
    }
}
