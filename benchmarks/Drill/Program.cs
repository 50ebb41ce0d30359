using Resilience.Drill;
using Resilience.Drill.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 160; // a log or a pipe has no terminal width; keep help and tables readable
}

var app = new CommandApp<DrillCommand>();
app.Configure(config => config
    .SetApplicationName(DrillCommand.ApplicationName)
    .UseStrictParsing()
    .SetExceptionHandler((error, _) => Fail(error, args))
    .AddExample("--writers", "2400", "--duration", "60")
    .AddExample("--mode", "resilient", "--output", "reports/upgrade-check"));
return await app.RunAsync(args);

// Whatever stopped the drill before it could report: one message, no stack trace, exit code 2 ("the drill could not run").
// Spectre's own messages are printed, not its rendering of the command line, which would show --pg's password.
static int Fail(Exception error, string[] args)
{
    if (error is CommandAppException)
    {
        var problems = error is CommandRuntimeException && DrillSettings.UnconvertibleNumbers(args) is { Count: > 0 } numbers
            ? numbers
            : error.Message.Split(Environment.NewLine);
        AnsiConsole.MarkupLine("[red]drill: bad arguments (exit code 2):[/]");
        foreach (var problem in problems)
        {
            AnsiConsole.MarkupLineInterpolated($"  {problem}");
        }

        AnsiConsole.MarkupLineInterpolated($"[grey]{DrillCommand.ApplicationName} --help lists every option with its range.[/]");
    }
    else
    {
        AnsiConsole.MarkupLineInterpolated($"[red]drill failed (exit code 2):[/] {error.GetType().Name}: {Errors.Describe(error)}");
    }

    return 2;
}
