using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Options;
using Resilience.TestSupport;

namespace Resilience.Locks.Tests;

/// <summary>
/// Redis keys and values are UTF-8; StackExchange.Redis turns every lone UTF-16 surrogate into U+FFFD, so "user\uD800" and
/// "user\uDBFF" would be the same owner and "r\uD800" / "r\uFFFD" the same key. Such names are refused before anything is sent.
/// </summary>
public sealed class LoneSurrogateTests(ServiceFixture services) : LockTestBase(services)
{
    [Fact]
    public async Task An_owner_with_a_lone_surrogate_cannot_lock_nor_force_release_another_owners_lock()
    {
        var locks = NewProvider();
        var take = await Assert.ThrowsAsync<InvalidLockArgumentException>(() => locks.TryAcquireAsync("r", "user\uD800").AsTask());
        Assert.Equal("ownerId", take.ParameterName);
        Assert.Contains("UTF-16", take.Rule, StringComparison.Ordinal);

        await using var held = await locks.AcquireAsync("r", "user\uFFFD");
        var force = await Assert.ThrowsAsync<InvalidLockArgumentException>(() => locks.ForceReleaseAsync("r", "user\uDBFF"));
        Assert.Equal("authenticatedOwnerId", force.ParameterName);
        Assert.Equal("user\uFFFD", (await locks.GetLockInfoAsync("r"))!.OwnerId);
    }

    [Fact]
    public async Task A_resource_with_a_lone_surrogate_is_refused_so_it_cannot_share_a_key_with_U_FFFD()
    {
        var locks = NewProvider();
        await using var replacement = await locks.AcquireAsync("r\uFFFD", "alice");
        var error = await Assert.ThrowsAsync<InvalidLockArgumentException>(() => locks.TryAcquireAsync("r\uD800", "bob").AsTask());
        Assert.Equal("resource", error.ParameterName);
        Assert.Contains("lone surrogate (U+D800) at index 1", error.Rule, StringComparison.Ordinal);
        Assert.Equal("alice", (await locks.GetLockInfoAsync("r\uFFFD"))!.OwnerId);
    }

    [Fact]
    public async Task Well_formed_surrogate_pairs_are_accepted()
    {
        var locks = NewProvider();
        await using var handle = await locks.AcquireAsync("r\uD83D\uDE00", "owner\uD83D\uDE00");
        Assert.Equal("owner\uD83D\uDE00", (await locks.GetLockInfoAsync("r\uD83D\uDE00"))!.OwnerId);
    }

    [Fact]
    public void A_key_prefix_with_a_lone_surrogate_fails_validation_naming_the_setting()
    {
        var options = new RedisLockOptions { KeyPrefix = "p\uDC00" };
        var error = Assert.Throws<OptionsValidationException>(() => new RedisLockProvider(Redis, options));
        Assert.Contains(error.Failures, f => f.Contains("KeyPrefix", StringComparison.Ordinal) && f.Contains("UTF-16", StringComparison.Ordinal));
    }

    /// <summary>Any name with a lone surrogate anywhere, high or low, is refused at every call, for both parameters; nothing is locked.</summary>
    [Property(MaxTest = 200)]
    public async Task Any_name_with_a_lone_surrogate_is_refused_at_every_call_and_locks_nothing(NonEmptyString seed, PositiveInt position, int surrogate, bool asOwner)
    {
        var clean = new string([.. seed.Get.Where(c => !char.IsSurrogate(c)).Take(200)]);
        var lone = (char)(0xD800 + ((surrogate & int.MaxValue) % 0x800));
        var at = position.Get % (clean.Length + 1);
        var name = clean.Insert(at, lone.ToString());
        var locks = NewProvider();
        var parameter = asOwner ? "ownerId" : "resource";

        var calls = asOwner
            ? new Func<Task>[]
            {
                () => locks.TryAcquireAsync("r", name).AsTask(),
                () => locks.AcquireAsync("r", name).AsTask(),
                () => locks.RunAsync("r", name, (_, _) => Task.CompletedTask),
            }
            : new Func<Task>[]
            {
                () => locks.TryAcquireAsync(name, "o").AsTask(),
                () => locks.AcquireAsync(name, "o").AsTask(),
                () => locks.RunAsync(name, "o", (_, _) => Task.CompletedTask),
                () => locks.ForceReleaseAsync(name, "o"),
                () => locks.GetLockInfoAsync(name),
                () => Task.FromResult(locks.GetLockKey(name)),
            };
        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<InvalidLockArgumentException>(call);
            Assert.Equal(parameter, error.ParameterName);
            Assert.Contains($"index {at}", error.Rule, StringComparison.Ordinal);
        }

        Assert.Empty(await locks.GetHeldResourcesAsync());
        Assert.Equal(at, InvalidLockArgumentException.IndexOfLoneSurrogate(name));
    }

    /// <summary>The check agrees with a strict UTF-8 encoder: a name is refused exactly when it cannot be encoded faithfully.</summary>
    [Property(MaxTest = 500)]
    public void The_check_matches_strict_UTF_8_encodability(int[] codes)
    {
        // Half the characters are surrogates (high or low), so pairs, lone ones and mixtures are all common.
        var value = new string([.. codes.Select(c => (c & 1) == 0 ? (char)(0xD800 + ((c >>> 1) % 0x800)) : (char)('a' + ((c >>> 1) % 26)))]);
        var strict = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        bool encodable;
        try
        {
            strict.GetByteCount(value);
            encodable = true;
        }
        catch (System.Text.EncoderFallbackException)
        {
            encodable = false;
        }

        Assert.Equal(encodable, InvalidLockArgumentException.IndexOfLoneSurrogate(value) < 0);
    }
}
