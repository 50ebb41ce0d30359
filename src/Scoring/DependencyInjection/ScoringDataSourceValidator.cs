using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Resilience.Scoring;

/// <summary>
/// Added by <c>AddScoring()</c> (the overload that uses the container's <see cref="DbDataSource"/>): at start
/// (<c>ValidateOnStart</c>) it reports a missing <see cref="DbDataSource"/> registration, without creating one, together with
/// every other options problem, instead of failing later when <see cref="IScoreStore"/> is first resolved.
/// </summary>
internal sealed class ScoringDataSourceValidator(IServiceProviderIsService? isService) : IValidateOptions<ScoringOptions>
{
    public ValidateOptionsResult Validate(string? name, ScoringOptions options)
    {
        if (isService is null || name != Options.DefaultName || isService.IsService(typeof(DbDataSource)))
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(
            "AddScoring() uses the container's DbDataSource, but no DbDataSource is registered. Register one (for example " +
            "services.AddNpgsqlDataSource(connectionString)), or pass the data source: services.AddScoring(sp => dataSource, ...).");
    }
}
