using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.Uploads.Tests.Support;

namespace Resilience.Uploads.Tests;

public sealed class DependencyInjectionTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_764_780_000_000);

    [Fact]
    public void Named_templates_resolve_as_keyed_singletons_sharing_one_id_source_and_the_container_clock()
    {
        var time = new FakeTimeProvider(Start);
        using var provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(time)
            .AddUploadKeys("submissions", o =>
            {
                o.Template = "{class_id}/{student_id}/{timestamp_ms}_{uuid}.{ext}";
                o.Fields = ["class_id", "student_id"];
            })
            .AddUploadKeys("avatars", o =>
            {
                o.Template = "{hash:2}/avatars/{user_id}/{uuid}.{ext}";
                o.Fields = ["user_id"];
            })
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        provider.GetRequiredService<IStartupValidator>().Validate();

        var submissions = provider.GetRequiredKeyedService<UploadKeyGenerator>("submissions");
        var avatars = provider.GetRequiredKeyedService<UploadKeyGenerator>("avatars");
        Assert.Same(submissions, provider.GetRequiredKeyedService<UploadKeyGenerator>("submissions"));
        Assert.Equal("submissions", submissions.Name);
        Assert.Same(submissions.Ids, avatars.Ids);
        Assert.Same(time, submissions.Ids.TimeProvider);

        var key = submissions.Create("image/png", ("class_id", "c"), ("student_id", "s"));
        Assert.StartsWith("c/s/1764780000000_", key, StringComparison.Ordinal);
        var avatar = avatars.Create("image/jpeg", ("user_id", "u1"));
        Assert.True(avatars.Parse(avatar).Id > submissions.Parse(key).Id);
        Assert.Null(provider.GetService<UploadKeyGenerator>());
    }

    [Fact]
    public void Default_template_resolves_without_a_key()
    {
        using var provider = new ServiceCollection()
            .AddUploadKeys(o =>
            {
                o.Template = "{student_id}/{uuid}";
                o.Fields = ["student_id"];
            })
            .BuildServiceProvider();
        var keys = provider.GetRequiredService<UploadKeyGenerator>();
        Assert.Equal(Options.DefaultName, keys.Name);
        Assert.Same(TimeProvider.System, keys.Ids.TimeProvider);
        Assert.StartsWith("s/", keys.Create("image/png", ("student_id", "s")), StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_options_fail_at_start_listing_every_problem()
    {
        using var provider = new ServiceCollection()
            .AddUploadKeys("broken", o =>
            {
                o.Template = "{class_id}/{timestamp_ms}.jpg";
                o.Fields = ["class_id", "student_id"];
                o.AttemptSecret = "tiny";
            })
            .BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Equal(3, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.Contains("no uniqueness placeholder", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("\"student_id\" does not appear", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("AttemptSecret", StringComparison.Ordinal));
        Assert.All(error.Failures, f => Assert.StartsWith("Upload key template 'broken'", f, StringComparison.Ordinal));
    }

    [Fact]
    public void Options_bind_from_configuration()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Uploads:Template"] = "{class_id}/{uuid}.{ext}",
                ["Uploads:Fields:0"] = "class_id",
                ["Uploads:ContentTypes:image/jpeg"] = "jpeg",
                ["Uploads:ValueEncoding"] = "Escape",
            })
            .Build();
        using var provider = new ServiceCollection()
            .AddUploadKeys("configured", configuration.GetSection("Uploads"))
            .BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var keys = provider.GetRequiredKeyedService<UploadKeyGenerator>("configured");
        var key = keys.Create("image/jpeg", ("class_id", "a b"));
        Assert.StartsWith("a!20b/", key, StringComparison.Ordinal);
        Assert.EndsWith(".jpeg", key, StringComparison.Ordinal);
        Assert.Equal("a b", keys.Parse(key)["class_id"]);
    }

    [Fact]
    public void Metrics_count_created_and_rejected_keys_and_clock_regressions()
    {
        using var meters = new TestMeterFactory();
        var clock = new SteppingClock(Start.ToUnixTimeMilliseconds());
        using var provider = new ServiceCollection()
            .AddSingleton<IMeterFactory>(meters)
            .AddSingleton<TimeProvider>(clock)
            .AddUploadKeys("submissions", o =>
            {
                o.Template = "{class_id}/{student_id}/{uuid}";
                o.Fields = ["class_id", "student_id"];
            })
            .BuildServiceProvider();
        var keys = provider.GetRequiredKeyedService<UploadKeyGenerator>("submissions");
        var meter = Assert.Single(meters.Meters);
        Assert.Equal("Resilience.Uploads", meter.Name);
        using var created = new MetricCollector<long>(meter, "resilience.uploads.keys.created");
        using var rejected = new MetricCollector<long>(meter, "resilience.uploads.keys.rejected");
        using var regressions = new MetricCollector<long>(meter, "resilience.uploads.id.clock_regressions");

        keys.Create("image/png", ("class_id", "c"), ("student_id", "s"));
        keys.Create("image/png", ("class_id", "c"), ("student_id", "s"));
        Assert.Throws<InvalidUploadKeyValueException>(() => keys.Create("image/png", ("class_id", "../c"), ("student_id", "s")));
        for (var i = 0; i < 3; i++)
        {
            Assert.Throws<InvalidUploadKeyValueException>(() => keys.Create("image/png", ($"caller-made-{i}", "c"), ("student_id", "s")));
        }

        clock.UnixMilliseconds -= 5_000;
        keys.Create("image/png", ("class_id", "c"), ("student_id", "s"));

        Assert.Equal(3, created.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.All(created.GetMeasurementSnapshot(), m => Assert.Equal("submissions", m.Tags["resilience.uploads.template"]));
        var rejections = rejected.GetMeasurementSnapshot();
        Assert.Equal(4, rejections.Count);
        Assert.Equal("class_id", rejections[0].Tags["resilience.uploads.field"]);
        Assert.Equal("DotSegment", rejections[0].Tags["error.type"]);

        // Names of fields the template does not declare come from callers: they never become tag values.
        Assert.All(rejections.Skip(1), r => Assert.Equal("(unknown)", r.Tags["resilience.uploads.field"]));
        Assert.All(rejections.Skip(1), r => Assert.Equal("UnknownField", r.Tags["error.type"]));
        Assert.Equal(1, regressions.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.IsType<Counter<long>>(created.Instrument);
        Assert.Equal("{key}", created.Instrument.Unit);
    }

    [Fact]
    public void Several_invalid_templates_each_report_their_own_problems_at_start()
    {
        using var provider = new ServiceCollection()
            .AddUploadKeys("first", o => o.Template = "{x}/{uuid}")
            .AddUploadKeys("second", o => o.Template = "no-uniqueness")
            .BuildServiceProvider();

        // The host's start-up check throws the one OptionsValidationException of each named template together.
        var error = Assert.Throws<AggregateException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        var failures = error.InnerExceptions.Cast<OptionsValidationException>().ToDictionary(e => e.OptionsName);
        Assert.Contains(failures["first"].Failures, f => f.Contains("{x} at index 0 is unknown", StringComparison.Ordinal));
        Assert.Contains(failures["second"].Failures, f => f.Contains("no uniqueness placeholder", StringComparison.Ordinal));
    }
}
