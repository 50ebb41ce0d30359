using Microsoft.Extensions.Options;

namespace Resilience.Uploads.DependencyInjection;

/// <summary>Validates every named <see cref="UploadKeyOptions"/> at start, reporting every problem at once.</summary>
internal sealed class UploadKeyOptionsValidator : IValidateOptions<UploadKeyOptions>
{
    public ValidateOptionsResult Validate(string? name, UploadKeyOptions options)
    {
        var problems = new List<string>();
        UploadKeyGenerator.Validate(options, problems, out _);
        if (problems.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        var label = string.IsNullOrEmpty(name) ? "(default)" : name;
        return ValidateOptionsResult.Fail(problems.Select(p => $"Upload key template '{label}' (\"{options.Template}\"): {p}"));
    }
}
