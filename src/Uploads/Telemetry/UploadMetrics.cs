using System.Diagnostics.Metrics;

namespace Resilience.Uploads.Telemetry;

/// <summary>The package's instruments, all on the one meter <c>Resilience.Uploads</c>.</summary>
internal sealed class UploadMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "Resilience.Uploads";

    /// <summary>Tag naming the key template (the DI name).</summary>
    public const string TemplateTag = "resilience.uploads.template";

    /// <summary>Tag naming the rejected field.</summary>
    public const string FieldTag = "resilience.uploads.field";

    /// <summary>The field tag's value for a field the template does not declare (its name is not recorded).</summary>
    public const string UnknownFieldTagValue = "(unknown)";

    /// <summary>OpenTelemetry's tag for the kind of error: here the broken rule.</summary>
    public const string ErrorTypeTag = "error.type";

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>, or on a plain meter without one.</summary>
    public UploadMetrics(IMeterFactory? meterFactory)
    {
        var meter = meterFactory?.Create(new MeterOptions(MeterName)) ?? new Meter(MeterName);
        KeysCreated = meter.CreateCounter<long>(
            "resilience.uploads.keys.created", "{key}", "Object keys created.");
        KeysRejected = meter.CreateCounter<long>(
            "resilience.uploads.keys.rejected", "{key}", "Key requests refused because a value broke a rule.");
        ClockRegressions = meter.CreateCounter<long>(
            "resilience.uploads.id.clock_regressions", "{regression}", "Times the clock stepped backwards while ids were generated.");
    }

    public Counter<long> KeysCreated { get; }

    public Counter<long> KeysRejected { get; }

    public Counter<long> ClockRegressions { get; }
}
