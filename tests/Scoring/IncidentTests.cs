using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NpgsqlTypes;
using Resilience.TestSupport;

namespace Resilience.Scoring.Tests;

/// <summary>The incident, replayed on this package's schema: the old query drifts silently, the package refuses.</summary>
public sealed class IncidentTests(ServiceFixture services)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string IncidentQuery = "UPDATE {s}.score_projection SET score = COALESCE($1, score) + 1 WHERE user_id = $2 AND concept = $3";

    [Fact]
    public async Task The_incidents_COALESCE_query_drifts_on_a_null_score_while_apply_refuses_it_and_rebuild_repairs_the_drift()
    {
        await using var db = await ScoringDatabase.CreateAsync(services);
        using var meterFactory = new TestMeterFactory();
        using var rejected = new MetricCollector<long>(meterFactory, "Resilience.Scoring", "resilience.scoring.events.rejected");
        using var store = new ScoreStore(db.DataSource, db.Options, db.Time, null, meterFactory);
        await db.Store.ApplyAsync(ScoreEvent.Set("e1", "student-140", "fractions", 40), Ct);
        await db.Store.ApplyAsync(ScoreEvent.Add("e2", "student-140", "fractions", 1), Ct);

        // The incident: a race made the computed score undefined, it reached the database as NULL, COALESCE kept the old score, +1.
        await using (var incident = db.DataSource.CreateCommand(IncidentQuery.Replace("{s}", db.Schema, StringComparison.Ordinal)))
        {
            incident.Parameters.Add(new() { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Numeric });
            incident.Parameters.AddWithValue("student-140");
            incident.Parameters.AddWithValue("fractions");
            Assert.Equal(1, await incident.ExecuteNonQueryAsync(Ct)); // "success": one row updated, no error anywhere
        }

        var drifted = await db.Store.GetAsync("student-140", "fractions", Ct);
        Assert.Equal(42, drifted!.Score); // the log says 41
        Assert.Equal(new ScoreMismatch("student-140", "fractions", 42m, 2, 41m, 2), Assert.Single(await db.Store.VerifyAsync(cancellationToken: Ct)));

        // The same NULL through the package: refused before any SQL, named, counted, nothing written.
        var before = await db.SnapshotAsync();
        var refused = await Assert.ThrowsAsync<ScoreValidationException>(
            () => store.ApplyAsync(ScoreEvent.Add("e3", "student-140", "fractions", null), Ct));
        Assert.Equal(("Value", ScoreRejectionReason.Null, "e3"), (refused.Field, refused.Reason, refused.EventId));
        Assert.Equal(before, await db.SnapshotAsync());
        var measurement = Assert.Single(rejected.GetMeasurementSnapshot());
        Assert.Equal(1, measurement.Value);
        Assert.Equal("null", measurement.Tags["resilience.scoring.rejection.reason"]);
        Assert.Equal("Value", measurement.Tags["resilience.scoring.field"]);

        // The backfill: rebuild from the immutable log puts the score back.
        Assert.Single(await db.Store.RebuildAsync(cancellationToken: Ct));
        Assert.Equal(41, (await db.Store.GetAsync("student-140", "fractions", Ct))!.Score);
        Assert.Empty(await db.Store.VerifyAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Source_code_of_the_package_never_coalesces()
    {
        var root = FindRepositoryRoot();
        var separator = Path.DirectorySeparatorChar;
        var offenders = Directory.EnumerateFiles(Path.Combine(root, "src", "Scoring"), "*", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{separator}obj{separator}", StringComparison.Ordinal)
                && !path.Contains($"{separator}bin{separator}", StringComparison.Ordinal))
            .Where(path => File.ReadAllText(path).Contains("COALESCE", StringComparison.OrdinalIgnoreCase))
            .ToArray();

        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(root, "src", "Scoring"), "ScoreStore.cs"));
        Assert.Empty(offenders);
        await Task.CompletedTask;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Directory.Packages.props")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Repository root not found above " + AppContext.BaseDirectory);
    }
}
