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
    public static Table CreateTable() => new Table().Border(TableBorder.Rounded)
        .AddColumn("mode").AddColumn("time").AddColumn("submissions").AddColumn("completed").AddColumn("failed")
        .AddColumn("server conns").AddColumn("memory growth").AddColumn("lock hold p95");

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

/// <summary>For CI logs and pipes: a plain line every five seconds.</summary>
internal sealed class PlainProgressView : IProgressView
{
    private long _last;

    public void Update(string mode, SignalSample sample, RunRecorder recorder, TimeSpan duration)
    {
        if (_last != 0 && Stopwatch.GetElapsedTime(_last) < TimeSpan.FromSeconds(5))
        {
            return;
        }

        _last = Stopwatch.GetTimestamp();
        var row = ProgressRow.Of(mode, sample, recorder, duration);
        Console.WriteLine(Markup.Remove(string.Join("  ", row)));
    }
}

internal static class ProgressRow
{
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
