using System.Globalization;
using Spectre.Console;

namespace Resilience.Drill.Reporting;

/// <summary>The final summary: both modes side by side, in the terminal and as a plain-text file.</summary>
internal static class ConsoleReport
{
    /// <summary>Writes the summary as plain text (no colours, 160 columns) to <paramref name="path"/>.</summary>
    public static async Task WriteFileAsync(DrillReport report, string path, CancellationToken cancellationToken)
    {
        await using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 160;
        Write(report, console);
        await File.WriteAllTextAsync(path, writer.ToString(), cancellationToken);
    }

    public static void Write(DrillReport report) => Write(report, AnsiConsole.Console);

    private static void Write(DrillReport report, IAnsiConsole console)
    {
        var modes = report.Modes;
        var summary = new Table().Border(TableBorder.Rounded).Title("[bold]Spike drill[/]").AddColumn("");
        foreach (var mode in modes)
        {
            summary.AddColumn(new TableColumn($"[bold]{mode.Mode}[/]"));
        }

        Row(summary, "submissions", modes.Select(m => N(m.Submissions)));
        Row(summary, "completed", modes.Select(m => N(m.Completed)));
        foreach (var kind in modes.SelectMany(m => m.Failures.Keys).Distinct())
        {
            if (modes.Any(m => m.Failures.GetValueOrDefault(kind) > 0))
            {
                Row(summary, $"failed: {kind}", modes.Select(m => N(m.Failures.GetValueOrDefault(kind))));
            }
        }

        foreach (var stage in modes.SelectMany(m => m.Stages.Keys).Distinct())
        {
            Row(summary, $"{stage} p50/p95/p99", modes.Select(m => m.Stages.TryGetValue(stage, out var p)
                ? string.Create(CultureInfo.InvariantCulture, $"{Ms(p.P50)} / {Ms(p.P95)} / {Ms(p.P99)}")
                : "-"));
        }

        foreach (var signal in modes.SelectMany(m => m.Alerts.Select(a => a.Signal)).Distinct())
        {
            Row(summary, $"alert: {signal}", modes.Select(m => m.Alerts.FirstOrDefault(a => a.Signal == signal) is { } a
                ? (a.Fired ? $"[red]fired[/] (worst {a.Worst}; {a.Threshold})" : $"[green]quiet[/] (worst {a.Worst}; {a.Threshold})")
                : "-"));
        }

        foreach (var invariant in modes.SelectMany(m => m.Invariants.Select(i => i.Name)).Distinct())
        {
            Row(summary, invariant, modes.Select(m => m.Invariants.FirstOrDefault(i => i.Name == invariant) is { } i
                ? (i.Held ? "[green]held[/]" : "[red]BROKE[/]") + " " + Markup.Escape(i.Detail)
                : "-"));
        }

        console.Write(summary);
        console.MarkupLine(report.ResilientHeld switch
        {
            true => "[green]Resilient mode: every invariant held.[/]",
            false => "[red]Resilient mode: an invariant broke (exit code 1).[/]",
            null => "[yellow]Resilient mode was not run (--mode naive); the exit code gates nothing.[/]",
        });
    }

    private static void Row(Table table, string label, IEnumerable<string> cells) =>
        table.AddRow([new Markup(Markup.Escape(label)), .. cells.Select(c => new Markup(c))]);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Ms(double seconds) => seconds < 1
        ? string.Create(CultureInfo.InvariantCulture, $"{seconds * 1000:0.#} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{seconds:0.00} s");
}
