using Resilience.Drill;
using Spectre.Console;
using Spectre.Console.Cli;

if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 160; // a log or a pipe has no terminal width; keep help and tables readable
}

var app = new CommandApp<DrillCommand>();
app.Configure(config => config
    .SetApplicationName("drill")
    .PropagateExceptions()
    .AddExample("--writers", "2400", "--duration", "60")
    .AddExample("--mode", "resilient", "--output", "reports/upgrade-check"));
return await app.RunAsync(args);
