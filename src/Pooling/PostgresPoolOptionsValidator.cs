using Microsoft.Extensions.Options;
using Npgsql;

namespace Resilience.Pooling;

/// <summary>
/// Checks every rule of <see cref="PostgresPoolOptions"/> and reports all problems at once. Used by the
/// <see cref="PostgresPool"/> constructor and, through DI, at host start (<c>ValidateOnStart</c>).
/// </summary>
public sealed class PostgresPoolOptionsValidator : IValidateOptions<PostgresPoolOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PostgresPoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = Problems(options);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>Every rule the options break, each naming the option, its value and the rule; empty when valid.</summary>
    public static IReadOnlyList<string> Problems(PostgresPoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            problems.Add("ConnectionString is required.");
        }
        else
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            }
            catch (Exception ex) when (ex is ArgumentException or KeyNotFoundException or FormatException or InvalidCastException or OverflowException)
            {
                // The parser's message names the keyword, never the password value.
                problems.Add($"ConnectionString is not a valid Npgsql connection string ({Redaction.Message(ex.Message)}).");
            }
        }

        if (options.MaxSize <= 0)
        {
            problems.Add($"MaxSize must be at least 1 (was {options.MaxSize}).");
        }
        else if (options.MaxSize > PostgresPoolOptions.MaxSizeLimit)
        {
            problems.Add($"MaxSize must be at most {PostgresPoolOptions.MaxSizeLimit} (was {options.MaxSize}), even with AllowMaxSizeAbove10.");
        }
        else if (options.MaxSize > PostgresPoolOptions.MaxSizeWithoutOptIn && !options.AllowMaxSizeAbove10)
        {
            problems.Add($"MaxSize {options.MaxSize} is above {PostgresPoolOptions.MaxSizeWithoutOptIn}; set AllowMaxSizeAbove10 = true if the fleet budget really allows it.");
        }

        Positive(problems, nameof(options.AcquireTimeout), options.AcquireTimeout);
        if (options.MaxUses <= 0)
        {
            problems.Add($"MaxUses must be at least 1 (was {options.MaxUses}).");
        }

        Positive(problems, nameof(options.MaxLifetime), options.MaxLifetime);
        if (!(options.MaxLifetimeJitter >= 0 && options.MaxLifetimeJitter <= 0.5))
        {
            problems.Add($"MaxLifetimeJitter must be between 0 and 0.5 (was {options.MaxLifetimeJitter}).");
        }

        Positive(problems, nameof(options.IdleTimeout), options.IdleTimeout);
        Positive(problems, nameof(options.MaintenanceInterval), options.MaintenanceInterval);
        if (options.LeakThreshold is { } leak)
        {
            Positive(problems, nameof(options.LeakThreshold), leak);
        }

        if (options.Fleet is null)
        {
            problems.Add("Fleet must not be null.");
        }
        else
        {
            var fleet = options.Fleet;
            PositiveOrNull(problems, "Fleet.Boxes", fleet.Boxes);
            PositiveOrNull(problems, "Fleet.WorkersPerBox", fleet.WorkersPerBox);
            PositiveOrNull(problems, "Fleet.TotalConnections", fleet.TotalConnections);
            PositiveOrNull(problems, "Fleet.PgBouncerMaxClientConnections", fleet.PgBouncerMaxClientConnections);
            PositiveOrNull(problems, "Fleet.PgBouncerServerConnections", fleet.PgBouncerServerConnections);
            if (fleet.Headroom < 0)
            {
                problems.Add($"Fleet.Headroom must be 0 or more (was {fleet.Headroom}).");
            }

            if (fleet.TotalConnections is null && (fleet.Boxes is null) != (fleet.WorkersPerBox is null))
            {
                problems.Add("Fleet.Boxes and Fleet.WorkersPerBox must be set together (or set Fleet.TotalConnections).");
            }
            else if (fleet.Boxes is > 0 && fleet.WorkersPerBox is > 0 && options.MaxSize > 0
                && (long)fleet.Boxes.Value * fleet.WorkersPerBox.Value * options.MaxSize > int.MaxValue)
            {
                problems.Add("Fleet.Boxes x Fleet.WorkersPerBox x MaxSize overflows; describe a fleet that can exist.");
            }
        }

        if (options.Saturation is null)
        {
            problems.Add("Saturation must not be null.");
        }
        else
        {
            if (!(options.Saturation.Threshold > 0 && options.Saturation.Threshold <= 1))
            {
                problems.Add($"Saturation.Threshold must be above 0 and at most 1 (was {options.Saturation.Threshold}).");
            }

            Positive(problems, "Saturation.Window", options.Saturation.Window);
            Positive(problems, "Saturation.SampleInterval", options.Saturation.SampleInterval);
        }

        return problems;
    }

    private static void Positive(List<string> problems, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            problems.Add($"{name} must be greater than zero (was {value}).");
        }
    }

    private static void PositiveOrNull(List<string> problems, string name, int? value)
    {
        if (value is <= 0)
        {
            problems.Add($"{name} must be at least 1 when set (was {value}).");
        }
    }
}
