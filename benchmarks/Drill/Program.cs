using Resilience.Drill;
using Spectre.Console.Cli;

var app = new CommandApp<DrillCommand>();
app.Configure(config => config
    .SetApplicationName("drill")
    .PropagateExceptions()
    .AddExample("--writers", "2400", "--duration", "60")
    .AddExample("--mode", "resilient", "--output", "reports/upgrade-check"));
return await app.RunAsync(args);
