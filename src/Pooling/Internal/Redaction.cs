using System.Text.RegularExpressions;
using Npgsql;

namespace Resilience.Pooling;

/// <summary>Keeps passwords out of every message, log line and tag.</summary>
internal static partial class Redaction
{
    /// <summary>Removes anything that looks like a password assignment from free text.</summary>
    public static string Message(string text) => PasswordPattern().Replace(text, "$1=***");

    /// <summary>A short, password-free description of where a connection string points: <c>host:port/database</c>.</summary>
    public static string Target(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            return $"{builder.Host}:{builder.Port}/{builder.Database}";
        }
        catch (Exception ex) when (ex is ArgumentException or KeyNotFoundException or FormatException or InvalidCastException or OverflowException)
        {
            return "(invalid connection string)";
        }
    }

    [GeneratedRegex(@"(password|pwd)\s*=\s*[^;,\s]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordPattern();
}
