using System.Text.RegularExpressions;

namespace Resilience.TestSupport;

public static partial class ConnectionStrings
{
    /// <summary>Removes password values from an Npgsql or StackExchange.Redis connection string.</summary>
    public static string Redact(string connectionString) => PasswordPattern().Replace(connectionString, "$1=***");

    [GeneratedRegex(@"(password|pwd)\s*=\s*[^;,]*", RegexOptions.IgnoreCase)]
    private static partial Regex PasswordPattern();
}
