using BenchmarkDotNet.Attributes;

namespace Resilience.Uploads.Benchmarks;

/// <summary>One id and its text form.</summary>
[MemoryDiagnoser]
public class IdBenchmarks
{
    private readonly UploadIdGenerator _ids = new();

    /// <summary>The BCL's UUIDv7, 32 hex characters.</summary>
    [Benchmark(Baseline = true)]
    public string GuidCreateVersion7ToString() => Guid.CreateVersion7().ToString("N");

    /// <summary>A random UUIDv4, 32 hex characters.</summary>
    [Benchmark]
    public string GuidNewGuidToString() => Guid.NewGuid().ToString("N");

    /// <summary>This package: a monotonic UUIDv7, 26 Crockford base32 characters.</summary>
    [Benchmark]
    public string UploadIdNextToString() => _ids.Next().ToString();

    /// <summary>This package without the text form (no allocation).</summary>
    [Benchmark]
    public UploadId UploadIdNext() => _ids.Next();
}
