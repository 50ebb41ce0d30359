using System.Globalization;
using BenchmarkDotNet.Attributes;

namespace Resilience.Uploads.Benchmarks;

/// <summary>
/// One object key of the shape {class_id}/{student_id}/{timestamp_ms}_{id}.jpg, built three ways.
/// </summary>
[MemoryDiagnoser]
public class KeyBenchmarks
{
    private const string ClassId = "class-7b";
    private const string StudentId = "student-42";

    private readonly UploadKeyGenerator _keys = new("{class_id}/{student_id}/{timestamp_ms}_{uuid}.{ext}", "class_id", "student_id");
    private readonly DateTimeOffset _attemptStartedAt = DateTimeOffset.UtcNow;

    /// <summary>Today's fix: an interpolated string around Guid.CreateVersion7() (no order within a millisecond).</summary>
    [Benchmark(Baseline = true)]
    public string GuidCreateVersion7Formatting() =>
        $"{ClassId}/{StudentId}/{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}_{Guid.CreateVersion7():N}.jpg";

    /// <summary>The naive version: string.Format with Guid.NewGuid().</summary>
    [Benchmark]
    public string NaiveStringFormatNewGuid() =>
        string.Format(CultureInfo.InvariantCulture, "{0}/{1}/{2}_{3}.jpg", ClassId, StudentId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Guid.NewGuid());

    /// <summary>This package: validated values, monotonic id, allow-listed extension.</summary>
    [Benchmark]
    public string UploadKeyGeneratorCreate() =>
        _keys.Create("image/jpeg", ("class_id", ClassId), ("student_id", StudentId));

    /// <summary>This package, idempotent retry key: HMAC-SHA256 of the attempt id instead of a fresh id.</summary>
    [Benchmark]
    public string UploadKeyGeneratorCreateForAttempt() =>
        _keys.CreateForAttempt("attempt-0f3a9c", _attemptStartedAt, "image/jpeg", ("class_id", ClassId), ("student_id", StudentId));
}
