using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Resilience.Locks;

/// <summary>The container's validator: requires a configuration string only when no <see cref="IConnectionMultiplexer"/> is registered.</summary>
internal sealed class ContainerRedisLockOptionsValidator(IServiceProviderIsService isService) : IValidateOptions<RedisLockOptions>
{
    private readonly RedisLockOptionsValidator _inner = new(() => isService.IsService(typeof(IConnectionMultiplexer)));

    public ValidateOptionsResult Validate(string? name, RedisLockOptions options) => _inner.Validate(name, options);
}
