using System.Globalization;
using System.Net;
using System.Text;

namespace Resilience.Drill.Reporting;

/// <summary>
/// A self-contained HTML report: inline CSS and SVG only (no scripts, no fonts, nothing fetched), with the three alert
/// signals of each mode drawn as charts against their thresholds.
/// </summary>
internal static class HtmlReport
{
    private const int Width = 560;
    private const int Height = 190;
    private const int Pad = 44;

    public static async Task WriteAsync(DrillReport report, DrillSettings settings, string path, CancellationToken cancellationToken)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Resilience spike drill</title><style>")
            .Append("body{font-family:system-ui,sans-serif;margin:24px;color:#1d232b;background:#fff}h1{margin:0 0 4px}")
            .Append(".muted{color:#5b6573}.modes{display:flex;flex-wrap:wrap;gap:24px}.mode{flex:1 1 600px;border:1px solid #d8dde3;border-radius:8px;padding:16px}")
            .Append("table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}td,th{border-bottom:1px solid #e4e7eb;padding:3px 10px;text-align:right}")
            .Append("td:first-child,th:first-child{text-align:left}.ok{color:#11743a;font-weight:600}.bad{color:#b3261e;font-weight:600}")
            .Append("svg{background:#fafbfc;border:1px solid #e4e7eb;border-radius:4px;margin-bottom:12px}svg text{font-size:11px;fill:#5b6573}")
            .Append("</style></head><body>");
        html.Append("<h1>Resilience spike drill</h1><p class=\"muted\">")
            .Append(Encode($"Started {report.StartedAt:u} · {settings.Writers:N0} writers · {settings.DurationSeconds:0} s per mode · command: {report.Command}"))
            .Append("</p><p>").Append(report.ResilientHeld switch
            {
                true => "<span class=\"ok\">Resilient mode: every invariant held.</span>",
                false => "<span class=\"bad\">Resilient mode: an invariant broke.</span>",
                null => "<span class=\"muted\">Resilient mode was not run (--mode naive); the exit code gates nothing.</span>",
            })
            .Append("</p><div class=\"modes\">");

        foreach (var mode in report.Modes)
        {
            AppendMode(html, mode, settings);
        }

        html.Append("</div></body></html>");
        await File.WriteAllTextAsync(path, html.ToString(), cancellationToken);
    }

    private static void AppendMode(StringBuilder html, ModeReport mode, DrillSettings settings)
    {
        html.Append("<section class=\"mode\"><h2>").Append(Encode(mode.Mode)).Append(" stack</h2><p>")
            .Append(Encode($"{mode.Submissions:N0} submissions, {mode.Completed:N0} completed, in {mode.DurationSeconds:0.0} s"))
            .Append("</p><h3>Invariants</h3><table><tr><th>check</th><th>held</th><th>detail</th></tr>");
        foreach (var invariant in mode.Invariants)
        {
            html.Append("<tr><td>").Append(Encode(invariant.Name)).Append("</td><td class=\"").Append(invariant.Held ? "ok\">yes" : "bad\">NO")
                .Append("</td><td style=\"text-align:left\">").Append(Encode(invariant.Detail)).Append("</td></tr>");
        }

        html.Append("</table><h3>Alert signals</h3><table><tr><th>signal</th><th>fired</th><th>worst</th><th>threshold</th></tr>");
        foreach (var alert in mode.Alerts)
        {
            html.Append("<tr><td>").Append(Encode(alert.Signal)).Append("</td><td class=\"").Append(alert.Fired ? "bad\">fired" : "ok\">quiet")
                .Append("</td><td>").Append(Encode(alert.Worst)).Append("</td><td>").Append(Encode(alert.Threshold)).Append("</td></tr>");
        }

        html.Append("</table>");
        var samples = mode.Signals;
        var maxConnections = samples.Count == 0 ? 0 : samples.Max(s => s.MaxConnections);

        // The alert judges the mean over its window, so the chart draws that mean beside the samples.
        var windowMeans = new Dictionary<SignalSample, double>(ReferenceEqualityComparer.Instance);
        foreach (var sample in samples)
        {
            windowMeans[sample] = samples
                .Where(s => s.ElapsedSeconds <= sample.ElapsedSeconds && s.ElapsedSeconds >= sample.ElapsedSeconds - settings.SaturationWindowSeconds)
                .Average(s => s.ServerConnections);
        }

        AppendChart(html, $"Server connections vs max_connections (the alert: their mean over {settings.SaturationWindowSeconds:0.#} s)", "connections", samples,
            [
                ("server connections", "#1f6feb", s => s.ServerConnections),
                ($"mean over {settings.SaturationWindowSeconds:0.#} s", "#0a7d32", s => windowMeans[s]),
                ("max_connections", "#b3261e", s => s.MaxConnections),
            ],
            maxConnections * settings.SaturationThreshold, "alert");
        AppendChart(html, "Process memory growth over the window (MB)", "MB", samples,
            [("growth", "#8250df", s => s.MemoryGrowthMegabytes), ("resident", "#9aa4b0", s => s.MemoryMegabytes)],
            settings.MemoryAlertMegabytes, "alert");
        AppendChart(html, "Lock hold time p95 (s)", "s", samples,
            [("hold p95", "#bf8700", s => s.LockHoldP95Seconds)],
            settings.LockAlertSeconds, "alert");

        html.Append("<h3>Stage latency (s)</h3><table><tr><th>stage</th><th>count</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>");
        foreach (var (stage, p) in mode.Stages)
        {
            html.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{Encode(stage)}</td><td>{p.Count:N0}</td><td>{p.P50:0.0000}</td><td>{p.P95:0.0000}</td><td>{p.P99:0.0000}</td><td>{p.Max:0.0000}</td></tr>");
        }

        html.Append("</table><h3>Failures by kind</h3><table><tr><th>kind</th><th>count</th></tr>");
        foreach (var (kind, count) in mode.Failures)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{Encode(kind)}</td><td>{count:N0}</td></tr>");
        }

        html.Append("</table><h3>Counters</h3><table>");
        foreach (var (name, count) in mode.Counters)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{Encode(name)}</td><td>{count:N0}</td></tr>");
        }

        html.Append("</table>");
        if (mode.SampleErrors.Count > 0)
        {
            html.Append("<h3>Sample errors</h3><ul>");
            foreach (var error in mode.SampleErrors)
            {
                html.Append("<li>").Append(Encode(error)).Append("</li>");
            }

            html.Append("</ul>");
        }

        html.Append("</section>");
    }

    private static void AppendChart(
        StringBuilder html, string title, string unit, IReadOnlyList<SignalSample> samples,
        (string Name, string Color, Func<SignalSample, double> Value)[] series, double threshold, string thresholdLabel)
    {
        var maxX = Math.Max(1, samples.Count == 0 ? 1 : samples.Max(s => s.ElapsedSeconds));
        var highest = Math.Max(threshold, series.SelectMany(line => samples.Select(line.Value)).DefaultIfEmpty(1).Max()) * 1.05;
        var yStep = NiceStep(Math.Max(highest, 1e-9) / 4);
        var maxY = Math.Ceiling(Math.Max(highest, 1e-9) / yStep) * yStep;
        var xStep = NiceStep(maxX / 6);
        double X(double x) => Pad + ((Width - Pad - 12) * x / maxX);
        double Y(double y) => Height - 24 - ((Height - 24 - 12) * y / maxY);

        html.Append(CultureInfo.InvariantCulture, $"<div><strong>{Encode(title)}</strong></div>")
            .Append(CultureInfo.InvariantCulture, $"<svg width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{Encode(title)}\">");
        for (var value = 0.0; value <= maxY + (yStep / 2); value += yStep)
        {
            html.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{Pad}\" x2=\"{Width - 12}\" y1=\"{Y(value):0.0}\" y2=\"{Y(value):0.0}\" stroke=\"#e4e7eb\"/><text x=\"4\" y=\"{Y(value) + 4:0.0}\">{value:0.###}</text>");
        }

        for (var second = xStep; second <= maxX; second += xStep)
        {
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(second) - 8:0.0}\" y=\"{Height - 6}\">{second:0.##} s</text>");
        }

        html.Append(CultureInfo.InvariantCulture, $"<text x=\"{Pad}\" y=\"{Height - 6}\">0 s · {Encode(unit)}</text>");
        html.Append(CultureInfo.InvariantCulture,
            $"<line x1=\"{Pad}\" x2=\"{Width - 12}\" y1=\"{Y(threshold):0.0}\" y2=\"{Y(threshold):0.0}\" stroke=\"#b3261e\" stroke-dasharray=\"5 4\"/>")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - 110}\" y=\"{Y(threshold) - 4:0.0}\" style=\"fill:#b3261e\">{Encode(thresholdLabel)} {threshold:0.##}</text>");
        var legendX = Pad + 6;
        foreach (var (name, color, value) in series)
        {
            if (samples.Count > 0)
            {
                var points = string.Join(' ', samples.Select(s => string.Create(CultureInfo.InvariantCulture, $"{X(s.ElapsedSeconds):0.0},{Y(value(s)):0.0}")));
                html.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{points}\"/>");
            }

            html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{legendX}\" y=\"8\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{legendX + 14}\" y=\"17\">{Encode(name)}</text>");
            legendX += 24 + (name.Length * 6);
        }

        html.Append("</svg>");
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    /// <summary>A round step (1, 2, 2.5 or 5 times a power of ten) of at least <paramref name="rough"/>, for axis ticks.</summary>
    private static double NiceStep(double rough)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        foreach (var factor in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (factor * power >= rough)
            {
                return factor * power;
            }
        }

        return 10 * power;
    }
}
