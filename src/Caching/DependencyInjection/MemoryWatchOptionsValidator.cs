using Microsoft.Extensions.Options;

namespace Resilience.Caching.Internal;

/// <summary>Validates memory-watch options at start, reporting every problem in one failure.</summary>
internal sealed class MemoryWatchOptionsValidator : IValidateOptions<MemoryWatchOptions>
{
    public ValidateOptionsResult Validate(string? name, MemoryWatchOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
