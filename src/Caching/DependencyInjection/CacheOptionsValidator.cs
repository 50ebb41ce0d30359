using Microsoft.Extensions.Options;

namespace Resilience.Caching.Internal;

/// <summary>Validates cache options at start, reporting every problem in one failure.</summary>
internal sealed class CacheOptionsValidator<TOptions> : IValidateOptions<TOptions>
    where TOptions : CacheOptions
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
