using System.Diagnostics;
using System.Globalization;
using Resilience.Drill.Measurement;
using Spectre.Console;

namespace Resilience.Drill.Reporting;

/// <summary>Live progress while a mode runs.</summary>
internal interface IProgressView
{
    void Update(string mode, SignalSample sample, RunRecorder recorder, TimeSpan duration);
}

/// <summary>For a terminal: one table redrawn in place every second.</summary>
internal sealed class LiveProgressView(LiveDisplayContext live, Table table) : IProgressView
{
    public static Table CreateTable()
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in ProgressRow.Columns)
        {
            table.AddColumn(column);
        }

        return table;
    }

    public void Update(string mode, SignalSample sample, RunRecorder recorder, TimeSpan duration)
    {
        var row = ProgressRow.Of(mode, sample, recorder, duration);
        if (table.Rows.Count == 0)
        {
            table.AddRow(row);
        }
        else
        {
            table.Rows.Update(0, 0, new Text(row[0]));
            for (var column = 1; column < row.Length; column++)
            {
                table.Rows.Update(0, column, new Markup(row[column]));
            }
        }

        live.Refresh();
    }
}

/// <summary>For CI logs and pipes: a header line when the mode starts (each mode has its own view), then a plain line every five seconds.</summary>
internal sealed class PlainProgressView : IProgressView
{
    private long _last;

    public void Update(string mode, SignalSample sample, RunRecorder recorder, TimeSpan duration)
    {
        if (_last != 0 && Stopwatch.GetElapsedTime(_last) < TimeSpan.FromSeconds(5))
        {
            return;
        }

        if (_last == 0)
        {
            Console.WriteLine(ProgressRow.Line(ProgressRow.Columns));
        }

        _last = Stopwatch.GetTimestamp();
        Console.WriteLine(ProgressRow.Line(ProgressRow.Of(mode, sample, recorder, duration)));
    }
}

internal static class ProgressRow
{
    /// <summary>The columns of <see cref="Of"/>, in its order.</summary>
    public static readonly string[] Columns =
        ["mode", "time", "submissions", "completed", "failed", "server conns", "memory growth", "lock hold p95"];

    // Plain-text widths that fit each header and the usual values ("87/100 ALERT", "492 MB ALERT"), so lines align under it.
    private static readonly int[] Widths = [9, 11, 11, 10, 8, 13, 14, 13];

    /// <summary>One plain-text line of <paramref name="cells"/> (markup removed), each padded to its column.</summary>
    public static string Line(IReadOnlyList<string> cells) =>
        string.Join("  ", cells.Select((cell, column) => Markup.Remove(cell).PadRight(Widths[column]))).TrimEnd();

    public static string[] Of(string mode, SignalSample s, RunRecorder recorder, TimeSpan duration)
    {
        static string Flag(bool alert, string text) => alert ? $"[red]{text} ALERT[/]" : text;
        return
        [
            mode,
            string.Create(CultureInfo.InvariantCulture, $"{s.ElapsedSeconds:0}/{duration.TotalSeconds:0} s"),
            recorder.Submissions.ToString("N0", CultureInfo.InvariantCulture),
            recorder.Completed.ToString("N0", CultureInfo.InvariantCulture),
            recorder.FailedTotal.ToString("N0", CultureInfo.InvariantCulture),
            Flag(s.SaturationAlert, string.Create(CultureInfo.InvariantCulture, $"{s.ServerConnections}/{s.MaxConnections}")),
            Flag(s.MemoryAlert, string.Create(CultureInfo.InvariantCulture, $"{s.MemoryGrowthMegabytes:0} MB")),
            Flag(s.LockHoldAlert, string.Create(CultureInfo.InvariantCulture, $"{s.LockHoldP95Seconds:0.00} s")),
        ];
    }
}
