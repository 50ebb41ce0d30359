using Resilience.TestSupport;

namespace Resilience.Harness.Tests;

public sealed class RedisHarnessTests(ServiceFixture services)
{
    [Fact]
    public async Task Set_and_get_round_trip()
    {
        var redis = (await services.RedisAsync()).GetDatabase();
        var key = $"harness:{Guid.NewGuid():N}";
        var value = Guid.NewGuid().ToString();

        Assert.True(await redis.StringSetAsync(key, value, TimeSpan.FromSeconds(30)));
        Assert.Equal(value, (string?)await redis.StringGetAsync(key));
        Assert.True(await redis.KeyDeleteAsync(key));
        Assert.False((await redis.StringGetAsync(key)).HasValue);
    }
}
