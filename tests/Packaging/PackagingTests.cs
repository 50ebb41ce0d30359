using System.IO.Compression;
using System.Xml.Linq;
using Resilience.TestSupport;

namespace Resilience.Packaging.Tests;

public sealed class PackagingTests(ServiceFixture services)
{
    private static readonly string[] Packages = ["Pooling", "Locks", "Caching", "Uploads", "Scoring"];

    [Fact]
    public async Task The_five_packages_pack_with_their_readmes_and_a_consumer_uses_each_through_DI_against_real_services()
    {
        var ct = TestContext.Current.CancellationToken;
        var environment = new Dictionary<string, string>
        {
            ["RESILIENCE_PG"] = await services.PostgresAsync(),
            ["RESILIENCE_PGBOUNCER"] = await services.PgBouncerAsync(),
            ["RESILIENCE_REDIS"] = await services.RedisConfigurationAsync(),
        };
        var root = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("resilience-packaging-").FullName;

        // A version no earlier run used, so the consumer restores these packages and not a cached copy.
        var version = $"0.1.0-proof.{DateTime.UtcNow:yyyyMMddHHmmss}.{Guid.NewGuid().ToString("N")[..8]}";
        try
        {
            var feed = Path.Combine(work, "feed");
            foreach (var package in Packages)
            {
                var (code, output) = await ProcessRunner.RunAsync(root, environment, ct,
                    "dotnet", "pack", Path.Combine(root, "src", package, $"Resilience.{package}.csproj"), "-c", "Release",
                    "-o", feed, "--artifacts-path", Path.Combine(work, "artifacts"), $"-p:Version={version}");
                Assert.True(code == 0, $"dotnet pack of Resilience.{package} failed:{Environment.NewLine}{output}");
            }

            foreach (var package in Packages)
            {
                AssertPackageCarriesItsReadme(Path.Combine(feed, $"Resilience.{package}.{version}.nupkg"), $"Resilience.{package}");
            }

            var consumer = Path.Combine(work, "consumer");
            CopyDirectory(Path.Combine(AppContext.BaseDirectory, "Consumer"), consumer);
            await File.WriteAllTextAsync(Path.Combine(consumer, "NuGet.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="resilience-proof" value="{feed}" />
                  </packageSources>
                </configuration>
                """, ct);

            var (runCode, runOutput) = await ProcessRunner.RunAsync(consumer, environment, ct,
                "dotnet", "run", "-c", "Release", $"-p:ResilienceVersion={version}");
            Assert.True(runCode == 0, $"the consumer failed:{Environment.NewLine}{runOutput}");
            foreach (var package in Packages)
            {
                Assert.Contains($"Resilience.{package}: ok", runOutput);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
            ForgetProofPackages(version);
        }
    }

    /// <summary>The consumer's restore put this run's one-off version into NuGet's global packages folder: take it out again.</summary>
    private static void ForgetProofPackages(string version)
    {
        var globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var package in Packages)
        {
            var folder = Path.Combine(globalPackages, $"resilience.{package.ToLowerInvariant()}", version.ToLowerInvariant());
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static void AssertPackageCarriesItsReadme(string nupkg, string id)
    {
        Assert.True(File.Exists(nupkg), $"{nupkg} was not produced");
        using var zip = ZipFile.OpenRead(nupkg);
        var readme = zip.GetEntry("README.md");
        Assert.NotNull(readme);
        using (var reader = new StreamReader(readme.Open()))
        {
            Assert.Contains(id, reader.ReadToEnd());
        }

        var nuspecEntry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var nuspecStream = nuspecEntry.Open();
        var metadata = XDocument.Load(nuspecStream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Value(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
        Assert.Equal(id, Value("id"));
        Assert.Equal("README.md", Value("readme"));
        Assert.False(string.IsNullOrWhiteSpace(Value("description")), $"{id} has a description");
        Assert.False(string.IsNullOrWhiteSpace(Value("license")), $"{id} has a license expression");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Resilience.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Resilience.sln not found above the test's folder");
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
