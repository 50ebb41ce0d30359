using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Resilience.Scoring;

/// <summary>Checks every rule of <see cref="ScoringOptions"/> at once and reports every broken one.</summary>
public sealed partial class ScoringOptionsValidator : IValidateOptions<ScoringOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ScoringOptions options)
    {
        var failures = Problems(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Throws one <see cref="OptionsValidationException"/> listing every problem, or returns when there is none.</summary>
    /// <param name="options">The options to check.</param>
    /// <param name="name">The options name for the message.</param>
    public static void ThrowIfInvalid(ScoringOptions options, string name = "")
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = Problems(options);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(name, typeof(ScoringOptions), failures);
        }
    }

    internal static List<string> Problems(ScoringOptions options)
    {
        var failures = new List<string>();
        if (options.Schema is null || !SchemaPattern().IsMatch(options.Schema))
        {
            failures.Add($"ScoringOptions.Schema must be 1-63 lower-case letters, digits or underscores starting with a letter or underscore; got '{options.Schema}'.");
        }

        CheckScore(failures, nameof(ScoringOptions.MinScore), options.MinScore);
        CheckScore(failures, nameof(ScoringOptions.MaxScore), options.MaxScore);
        if (double.IsFinite(options.MinScore) && double.IsFinite(options.MaxScore) && options.MinScore >= options.MaxScore)
        {
            failures.Add($"ScoringOptions.MinScore ({options.MinScore}) must be less than ScoringOptions.MaxScore ({options.MaxScore}).");
        }

        if (options.MaxIdLength is < 1 or > 10_000)
        {
            failures.Add($"ScoringOptions.MaxIdLength must be between 1 and 10000; got {options.MaxIdLength}.");
        }

        if (options.MaxBatchSize is < 1 or > 100_000)
        {
            failures.Add($"ScoringOptions.MaxBatchSize must be between 1 and 100000; got {options.MaxBatchSize}.");
        }

        if (options.MaxConcurrentApplyBatches is < 1 or > 1_000)
        {
            failures.Add($"ScoringOptions.MaxConcurrentApplyBatches must be between 1 and 1000; got {options.MaxConcurrentApplyBatches}.");
        }

        return failures;
    }

    private static void CheckScore(List<string> failures, string field, double value)
    {
        if (!double.IsFinite(value) || Math.Abs(value) > ScoringOptions.ScoreLimit)
        {
            failures.Add($"ScoringOptions.{field} must be a finite number between -1e15 and 1e15; got {value}.");
        }
        else if (!ExactScore.TryConvert(value, out _, out _, out _))
        {
            failures.Add(
                $"ScoringOptions.{field} must be stored exactly: at most {ScoringOptions.MaxSignificantDigits} significant digits and " +
                $"{ScoringOptions.MaxDecimalPlaces} digits after the decimal point; got {value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}.");
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaPattern();
}
