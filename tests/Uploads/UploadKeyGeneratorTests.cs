using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Resilience.Uploads.Tests.Support;

namespace Resilience.Uploads.Tests;

public sealed partial class UploadKeyGeneratorTests
{
    private const string Submissions = "{class_id}/{student_id}/{timestamp_ms}_{uuid}.{ext}";
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_764_780_000_123);

    private static readonly string[] Templates =
    [
        Submissions,
        "{hash}/{class_id}/{student_id}/{timestamp_ms}_{uuid}.{ext}",
        "{hash:2}/c-{class_id}/{student_id}/{uuid}",
        "{uuid}.{ext}/{class_id}/{student_id}",
        "uploads/{class_id}/{student_id}/{timestamp_ms}_{uuid}.jpg",
    ];

    private static UploadKeyGenerator Keys(string template = Submissions, UploadKeyValueEncoding encoding = UploadKeyValueEncoding.Reject, TimeProvider? time = null) =>
        new(
            new UploadKeyOptions { Template = template, Fields = ["class_id", "student_id"], ValueEncoding = encoding },
            new UploadIdGenerator(time ?? new FakeTimeProvider(Start)));

    [GeneratedRegex("^[0-9a-zA-Z!_.*'()/-]+$")]
    private static partial Regex SafeKey();

    [Fact]
    public void Key_has_the_template_shape()
    {
        var key = Keys().Create("image/jpeg", ("class_id", "c-42"), ("student_id", "s-7"));
        Assert.Matches(@"^c-42/s-7/1764780000123_[0-7][0-9a-hjkmnp-tv-z]{25}\.jpg$", key);
    }

    [Fact]
    public void Timestamp_is_zero_padded_to_13_digits_so_it_sorts()
    {
        var keys = Keys(time: new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(946_684_800_000)));
        var key = keys.Create("image/png", ("class_id", "c"), ("student_id", "s"));
        Assert.StartsWith("c/s/0946684800000_", key, StringComparison.Ordinal);
        Assert.Equal(946_684_800_000, keys.Parse(key).UnixTimeMilliseconds);
    }

    [Property(MaxTest = 300)]
    public Property Parse_of_render_gives_back_every_value() =>
        Prop.ForAll(
            (from template in Gen.Elements(Templates)
             from contentType in Gen.Elements(UploadKeyOptions.DefaultContentTypes.Keys.ToArray())
             select (template, contentType)).ToArbitrary(),
            Values.Safe.ToArbitrary(),
            Values.Safe.ToArbitrary(),
            (setup, classId, studentId) =>
            {
                var (template, contentType) = setup;
                var keys = Keys(template);
                var key = keys.Create(contentType, ("student_id", studentId), ("class_id", classId));
                var parts = keys.Parse(key);
                Assert.Equal(classId, parts["class_id"]);
                Assert.Equal(studentId, parts["student_id"]);
                Assert.Equal(2, parts.Fields.Count);
                Assert.Equal(Start.ToUnixTimeMilliseconds(), parts.UnixTimeMilliseconds);
                Assert.Contains(parts.Id.ToString(), key, StringComparison.Ordinal);
                if (template.Contains("{ext}", StringComparison.Ordinal))
                {
                    Assert.Equal(UploadKeyOptions.DefaultContentTypes[contentType], parts.Extension);
                    Assert.Equal(parts.Extension, UploadKeyOptions.DefaultContentTypes[parts.ContentType!]);
                }

                Assert.Equal(template.Contains("{hash", StringComparison.Ordinal), parts.PartitionHash is not null);
                Assert.Equal(key, keys.Create(parts.Id, contentType, ("class_id", classId), ("student_id", studentId)));
            });

    [Theory]
    [InlineData(0L, "0000000000000")]
    [InlineData(1L, "0000000000001")]
    [InlineData(9_999_999_999_999L, "9999999999999")]
    [InlineData(10_000_000_000_000L, "10000000000000")]
    [InlineData(99_999_999_999_999L, "99999999999999")]
    [InlineData(100_000_000_000_000L, "100000000000000")]
    [InlineData(UploadId.MaxUnixTimeMilliseconds, "253402300799999")]
    public void Any_48_bit_timestamp_renders_and_parses_back(long unixMs, string digits)
    {
        var keys = Keys();
        var id = UploadId.Create(unixMs, 12345);
        var key = keys.Create(id, "image/jpeg", ("class_id", "c"), ("student_id", "s"));
        Assert.Equal($"c/s/{digits}_{id}.jpg", key);
        Assert.Equal(id, keys.Parse(key).Id);
    }

    [Property(MaxTest = 300)]
    public Property Escape_encoding_parses_back_any_text_exactly() =>
        Prop.ForAll(Values.AnyText.ToArbitrary(), Values.AnyText.ToArbitrary(), (classId, studentId) =>
        {
            var keys = Keys(encoding: UploadKeyValueEncoding.Escape);
            var key = keys.Create("image/webp", ("class_id", classId), ("student_id", studentId));
            Assert.Matches(SafeKey(), key);
            Assert.DoesNotContain("..", key, StringComparison.Ordinal);
            Assert.Equal(2, key.Count(c => c == '/'));
            var parts = keys.Parse(key);
            Assert.Equal(classId, parts["class_id"]);
            Assert.Equal(studentId, parts["student_id"]);
        });

    [Property(MaxTest = 300)]
    public Property Every_key_is_safe_and_at_most_1024_bytes() =>
        Prop.ForAll(
            Gen.Elements(Templates).ToArbitrary(),
            Values.Safe.ToArbitrary(),
            Values.Safe.ToArbitrary(),
            (template, classId, studentId) =>
            {
                var key = Keys(template).Create("image/heic", ("class_id", classId), ("student_id", studentId));
                Assert.Matches(SafeKey(), key);
                Assert.InRange(Encoding.UTF8.GetByteCount(key), 1, UploadKeyGenerator.MaxKeyLength);
                Assert.DoesNotContain("//", key, StringComparison.Ordinal);
                Assert.False(key.StartsWith('/') || key.EndsWith('/'));
                Assert.DoesNotContain(key.Split('/'), segment => segment is "." or "..");
            });

    [Property(MaxTest = 1_000)]
    public Property Hostile_values_are_always_rejected_naming_the_field() =>
        Prop.ForAll(Values.Hostile.ToArbitrary(), Gen.Elements("class_id", "student_id").ToArbitrary(), (hostile, field) =>
        {
            var clock = new SteppingClock(Start.ToUnixTimeMilliseconds());
            var keys = Keys(time: clock);
            var other = field == "class_id" ? "student_id" : "class_id";
            var error = Assert.Throws<InvalidUploadKeyValueException>(() =>
                keys.Create("image/jpeg", (field, hostile), (other, "ok")));
            Assert.Equal(field, error.Field);
            Assert.Contains($"\"{field}\"", error.Message, StringComparison.Ordinal);
            Assert.Contains(error.Rule, new[]
            {
                UploadKeyRule.Empty, UploadKeyRule.UnsafeCharacter, UploadKeyRule.PathSeparator,
                UploadKeyRule.ControlCharacter, UploadKeyRule.DotSegment, UploadKeyRule.TooLong,
            });
            // Nothing was created: the id source was never asked for an id.
            Assert.Equal(0, clock.Reads);
        });

    [Theory]
    [InlineData("a/b", UploadKeyRule.PathSeparator, 1)]
    [InlineData("a\\b", UploadKeyRule.PathSeparator, 1)]
    [InlineData("a\nb", UploadKeyRule.ControlCharacter, 1)]
    [InlineData("a\u0085", UploadKeyRule.ControlCharacter, 1)]
    [InlineData("..", UploadKeyRule.DotSegment, 0)]
    [InlineData("x..y", UploadKeyRule.DotSegment, 1)]
    [InlineData(".", UploadKeyRule.DotSegment, 0)]
    [InlineData("a\u2215b", UploadKeyRule.UnsafeCharacter, 1)]
    [InlineData("\u0430bc", UploadKeyRule.UnsafeCharacter, 0)]
    [InlineData("a b", UploadKeyRule.UnsafeCharacter, 1)]
    [InlineData("", UploadKeyRule.Empty, null)]
    public void Each_rule_is_named(string value, UploadKeyRule rule, int? index)
    {
        var error = Assert.Throws<InvalidUploadKeyValueException>(() =>
            Keys().Create("image/jpeg", ("class_id", "c"), ("student_id", value)));
        Assert.Equal("student_id", error.Field);
        Assert.Equal(rule, error.Rule);
        Assert.Equal(index, error.Index);
    }

    [Fact]
    public void Null_value_is_rejected_as_empty()
    {
        var error = Assert.Throws<InvalidUploadKeyValueException>(() =>
            Keys().Create("image/jpeg", ("class_id", null!), ("student_id", "s")));
        Assert.Equal(("class_id", UploadKeyRule.Empty), (error.Field, error.Rule));
    }

    [Fact]
    public void Whole_key_over_1024_bytes_is_rejected()
    {
        var error = Assert.Throws<InvalidUploadKeyValueException>(() =>
            Keys().Create("image/jpeg", ("class_id", new string('c', 500)), ("student_id", new string('s', 500))));
        Assert.Equal(("key", UploadKeyRule.TooLong), (error.Field, error.Rule));

        // Just at the limit is fine: 1024 - "/" - "/" - 13 digits - "_" - 26 - ".jpg" = 978 for the two fields.
        var key = Keys().Create("image/jpeg", ("class_id", new string('c', 489)), ("student_id", new string('s', 489)));
        Assert.Equal(1024, Encoding.UTF8.GetByteCount(key));
    }

    [Fact]
    public void Escaped_values_that_grow_past_1024_bytes_are_rejected()
    {
        var keys = Keys(encoding: UploadKeyValueEncoding.Escape);

        // One value that alone escapes to more than a key may hold is named ('/' and 'é' each escape to 3 or 6 characters).
        var slashes = Assert.Throws<InvalidUploadKeyValueException>(() =>
            keys.Create("image/jpeg", ("class_id", new string('/', 400)), ("student_id", "s")));
        Assert.Equal(("class_id", UploadKeyRule.TooLong), (slashes.Field, slashes.Rule));
        Assert.Contains("1200 characters once escaped", slashes.Message, StringComparison.Ordinal);
        var accents = Assert.Throws<InvalidUploadKeyValueException>(() =>
            keys.Create("image/jpeg", ("class_id", "c"), ("student_id", new string('\u00e9', 600))));
        Assert.Equal(("student_id", UploadKeyRule.TooLong), (accents.Field, accents.Rule));

        // Values that each fit but not together: the whole key is named.
        var both = Assert.Throws<InvalidUploadKeyValueException>(() =>
            keys.Create("image/jpeg", ("class_id", new string('/', 200)), ("student_id", new string('/', 200))));
        Assert.Equal(("key", UploadKeyRule.TooLong), (both.Field, both.Rule));
    }

    [Fact]
    public void Escape_still_refuses_empty_values_and_lone_surrogates()
    {
        var keys = Keys(encoding: UploadKeyValueEncoding.Escape);
        Assert.Equal(UploadKeyRule.Empty, Assert.Throws<InvalidUploadKeyValueException>(() =>
            keys.Create("image/jpeg", ("class_id", string.Empty), ("student_id", "s"))).Rule);
        Assert.Equal(UploadKeyRule.InvalidUnicode, Assert.Throws<InvalidUploadKeyValueException>(() =>
            keys.Create("image/jpeg", ("class_id", "a\uD800"), ("student_id", "s"))).Rule);
        Assert.StartsWith("a!2Fb!2E!2E/", keys.Create("image/jpeg", ("class_id", "a/b.."), ("student_id", "s")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("image/jpeg", "jpg")]
    [InlineData("IMAGE/JPEG", "jpg")]
    [InlineData("image/png; charset=binary", "png")]
    [InlineData(" image/webp ", "webp")]
    [InlineData("\timage/webp\t ; q=1", "webp")]
    [InlineData("application/pdf", "pdf")]
    public void Extension_comes_from_the_content_type(string contentType, string extension)
    {
        var key = Keys().Create(contentType, ("class_id", "c"), ("student_id", "s"));
        Assert.EndsWith("." + extension, key, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("image/svg+xml", UploadKeyRule.UnknownContentType)]
    [InlineData("text/html", UploadKeyRule.UnknownContentType)]
    [InlineData("image/jpeg/../x", UploadKeyRule.UnknownContentType)]
    [InlineData("\u3000image/jpeg", UploadKeyRule.UnknownContentType)] // only HTTP's space and tab are trimmed
    [InlineData("image/jpeg\u00A0", UploadKeyRule.UnknownContentType)]
    [InlineData("\u2028image/jpeg", UploadKeyRule.UnknownContentType)]
    [InlineData("image/jpeg\r\n", UploadKeyRule.UnknownContentType)]
    [InlineData(";charset=x", UploadKeyRule.UnknownContentType)]
    [InlineData("", UploadKeyRule.Empty)]
    [InlineData(" \t ", UploadKeyRule.Empty)]
    [InlineData(null, UploadKeyRule.Empty)]
    public void Content_types_outside_the_allow_list_are_rejected(string? contentType, UploadKeyRule rule)
    {
        var error = Assert.Throws<InvalidUploadKeyValueException>(() =>
            Keys().Create(contentType!, ("class_id", "c"), ("student_id", "s")));
        Assert.Equal(("content_type", rule), (error.Field, error.Rule));
        Assert.Contains("image/jpeg", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Custom_allow_list_replaces_the_defaults()
    {
        var keys = new UploadKeyGenerator(new UploadKeyOptions
        {
            Template = "{student_id}/{uuid}.{ext}",
            Fields = ["student_id"],
            ContentTypes = { ["video/mp4"] = "mp4" },
        });
        Assert.EndsWith(".mp4", keys.Create("video/mp4", ("student_id", "s")), StringComparison.Ordinal);
        Assert.Throws<InvalidUploadKeyValueException>(() => keys.Create("image/jpeg", ("student_id", "s")));
    }

    [Fact]
    public void Missing_unknown_and_duplicate_fields_are_rejected()
    {
        var keys = Keys();
        var missing = Assert.Throws<InvalidUploadKeyValueException>(() => keys.Create("image/jpeg", ("class_id", "c")));
        Assert.Equal(("student_id", UploadKeyRule.MissingField), (missing.Field, missing.Rule));
        var unknown = Assert.Throws<InvalidUploadKeyValueException>(() =>
            keys.Create("image/jpeg", ("class_id", "c"), ("student_id", "s"), ("teacher_id", "t")));
        Assert.Equal(("teacher_id", UploadKeyRule.UnknownField), (unknown.Field, unknown.Rule));
        var duplicate = Assert.Throws<InvalidUploadKeyValueException>(() =>
            keys.Create("image/jpeg", ("class_id", "c"), ("class_id", "d"), ("student_id", "s")));
        Assert.Equal(("class_id", UploadKeyRule.DuplicateField), (duplicate.Field, duplicate.Rule));
    }

    [Theory]
    [InlineData(null, 0)]
    [InlineData(null, 1)]
    [InlineData("", 1)]
    public void A_field_without_a_name_is_rejected_as_such(string? name, int position)
    {
        var fields = new (string Name, string Value)[] { ("class_id", "c"), ("student_id", "s") };
        fields[position] = (name!, "x");
        var error = Assert.Throws<InvalidUploadKeyValueException>(() => Keys().Create("image/jpeg", fields));
        Assert.Equal(($"fields[{position}]", UploadKeyRule.EmptyFieldName), (error.Field, error.Rule));
        Assert.Contains(name is null ? "null field name" : "empty field name", error.Message, StringComparison.Ordinal);
        Assert.Contains("class_id, student_id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_under_one_prefix_sort_by_creation_time_even_when_the_clock_steps_back()
    {
        var clock = new SteppingClock(Start.ToUnixTimeMilliseconds());
        var keys = Keys(time: clock);
        var created = new List<string>();
        for (var i = 0; i < 5_000; i++)
        {
            clock.UnixMilliseconds += (i % 7) switch { 0 => 3, 1 => -250, 2 => 1, _ => 0 };
            created.Add(keys.Create("image/jpeg", ("class_id", "c"), ("student_id", "s")));
        }

        Assert.Equal(created, created.Order(StringComparer.Ordinal));
    }

    [Property(MaxTest = 1)]
    public Property A_million_keys_for_a_class_on_all_cores_in_one_millisecond_are_all_distinct() =>
        Prop.ForAll(Values.Safe.ToArbitrary(), Gen.Choose(1, 60).ToArbitrary(), (classId, students) =>
        {
            var keys = Keys(time: new FakeTimeProvider(Start));
            var threads = Math.Max(2, Environment.ProcessorCount);
            const int Total = 1_048_576;
            var perThread = Total / threads;
            var results = new string[threads][];
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                var mine = new string[perThread];
                for (var i = 0; i < perThread; i++)
                {
                    // A whole class uploading at once, on a clock frozen in one millisecond.
                    mine[i] = keys.Create("image/jpeg", ("class_id", classId), ("student_id", "student-" + (i % students)));
                }

                results[t] = mine;
            });

            var all = new HashSet<string>(StringComparer.Ordinal);
            foreach (var key in results.SelectMany(r => r))
            {
                Assert.True(all.Add(key), $"duplicate key {key}");
            }

            Assert.Equal(perThread * threads, all.Count);
            Assert.True(all.Count >= 1_000_000);
            Assert.All(results[0].Take(100), k => Assert.Contains("/1764780000123_", k, StringComparison.Ordinal));
        });

    [Fact]
    public void Parse_refuses_keys_that_do_not_match_exactly()
    {
        var keys = Keys();
        var key = keys.Create("image/jpeg", ("class_id", "c"), ("student_id", "s"));
        var id = keys.Parse(key).Id.ToString();
        string[] bad =
        [
            key + "x",
            key.Replace(".jpg", ".exe", StringComparison.Ordinal),
            key.Replace("1764780000123", "1764780000124", StringComparison.Ordinal),
            key.Replace("1764780000123", "01764780000123", StringComparison.Ordinal),
            key.Replace(id, id.ToUpperInvariant(), StringComparison.Ordinal),
            "c/s/x/" + key[4..],
            "c/" + key[2..].Replace("s/", "s$/", StringComparison.Ordinal),
            "../" + key,
            key[..^4],
            string.Empty,
        ];
        foreach (var text in bad)
        {
            Assert.False(keys.TryParse(text, out _), text);
            Assert.Throws<UploadKeyFormatException>(() => keys.Parse(text));
        }

        Assert.False(keys.TryParse(null, out _));
    }

    [Fact]
    public void Parse_checks_the_partition_hash()
    {
        var keys = Keys("{hash:3}/{class_id}/{student_id}/{uuid}");
        var key = keys.Create("image/jpeg", ("class_id", "c"), ("student_id", "s"));
        var hash = keys.Parse(key).PartitionHash!;
        Assert.Matches("^[0-9a-f]{3}$", hash);
        var tampered = (hash[0] == '0' ? '1' : '0') + key[1..];
        Assert.False(keys.TryParse(tampered, out _));
    }

    [Fact]
    public void Partition_hash_spreads_keys_over_every_prefix()
    {
        var keys = Keys("{hash:2}/{class_id}/{student_id}/{uuid}", time: new FakeTimeProvider(Start));
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < 20_000; i++)
        {
            var prefix = keys.Create("image/jpeg", ("class_id", "c"), ("student_id", "s"))[..2];
            counts[prefix] = counts.GetValueOrDefault(prefix) + 1;
        }

        // 256 prefixes, about 78 keys each; a fair hash leaves none empty and none over twice its share.
        Assert.Equal(256, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 20, 160));
    }

    [Fact]
    public void Create_for_an_id_is_idempotent_and_different_ids_differ()
    {
        var keys = Keys();
        var id = keys.NextId();
        var first = keys.Create(id, "image/jpeg", ("class_id", "c"), ("student_id", "s"));
        Assert.Equal(first, keys.Create(id, "image/jpeg", ("student_id", "s"), ("class_id", "c")));
        // Another instance of the same template (another process) gives the same key for the retry.
        Assert.Equal(first, Keys().Create(id, "image/jpeg", ("class_id", "c"), ("student_id", "s")));
        Assert.NotEqual(first, keys.Create(keys.NextId(), "image/jpeg", ("class_id", "c"), ("student_id", "s")));
        Assert.Throws<ArgumentException>(() => keys.Create(default(UploadId), "image/jpeg", ("class_id", "c"), ("student_id", "s")));
    }

    [Property(MaxTest = 300)]
    public Property Same_attempt_gives_the_same_key_on_any_instance() =>
        Prop.ForAll(Values.Safe.ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (attempt, offset) =>
        {
            var startedAt = Start.AddMilliseconds(offset);
            var a = Keys(time: new FakeTimeProvider(Start)).CreateForAttempt(attempt, startedAt, "image/jpeg", ("class_id", "c"), ("student_id", "s"));
            var b = Keys(time: new FakeTimeProvider(Start.AddDays(3))).CreateForAttempt(attempt, startedAt, "image/jpeg", ("class_id", "c"), ("student_id", "s"));
            Assert.Equal(a, b);
            Assert.Equal(startedAt.ToUnixTimeMilliseconds(), Keys().Parse(a).UnixTimeMilliseconds);
        });

    [Property(MaxTest = 300)]
    public Property Different_attempts_never_share_a_key() =>
        Prop.ForAll(Values.Safe.ToArbitrary(), Values.Safe.ToArbitrary(), (a, b) =>
        {
            var keys = Keys();
            var ka = keys.CreateForAttempt(a, Start, "image/jpeg", ("class_id", "c"), ("student_id", "s"));
            var kb = keys.CreateForAttempt(b, Start, "image/jpeg", ("class_id", "c"), ("student_id", "s"));
            return (a == b) == (ka == kb);
        });

    [Fact]
    public void Many_attempts_in_one_millisecond_give_distinct_keys()
    {
        var keys = Keys();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 200_000; i++)
        {
            Assert.True(seen.Add(keys.CreateForAttempt("attempt-" + i, Start, "image/jpeg", ("class_id", "c"), ("student_id", "s"))));
        }

        // The same attempt id for another student is another key too (the fields are part of the key and of the hash).
        var one = keys.CreateForAttempt("same", Start, "image/jpeg", ("class_id", "c"), ("student_id", "s1"));
        var two = keys.CreateForAttempt("same", Start, "image/jpeg", ("class_id", "c"), ("student_id", "s2"));
        Assert.NotEqual(keys.Parse(one).Id, keys.Parse(two).Id);
    }

    [Fact]
    public void Attempt_secret_changes_the_key_and_bad_attempts_are_rejected()
    {
        UploadKeyGenerator WithSecret(string? secret) => new(new UploadKeyOptions
        {
            Template = Submissions,
            Fields = ["class_id", "student_id"],
            AttemptSecret = secret,
        });
        var plain = WithSecret(null).CreateForAttempt("a1", Start, "image/jpeg", ("class_id", "c"), ("student_id", "s"));
        var keyed = WithSecret("0123456789abcdef-secret").CreateForAttempt("a1", Start, "image/jpeg", ("class_id", "c"), ("student_id", "s"));
        Assert.NotEqual(plain, keyed);

        var keys = Keys();
        Assert.Equal(("attempt_id", UploadKeyRule.Empty), Rule(() => keys.CreateForAttempt(string.Empty, Start, "image/jpeg", ("class_id", "c"), ("student_id", "s"))));
        Assert.Equal(("attempt_id", UploadKeyRule.InvalidUnicode), Rule(() => keys.CreateForAttempt("\uDC00", Start, "image/jpeg", ("class_id", "c"), ("student_id", "s"))));
        Assert.Equal(("attempt_id", UploadKeyRule.TooLong), Rule(() => keys.CreateForAttempt(new string('a', 2000), Start, "image/jpeg", ("class_id", "c"), ("student_id", "s"))));
        Assert.Equal(("attempt_started_at", UploadKeyRule.TimestampOutOfRange), Rule(() => keys.CreateForAttempt("a", DateTimeOffset.UnixEpoch.AddDays(-1), "image/jpeg", ("class_id", "c"), ("student_id", "s"))));
        Assert.Equal(("student_id", UploadKeyRule.PathSeparator), Rule(() => keys.CreateForAttempt("a", Start, "image/jpeg", ("class_id", "c"), ("student_id", "a/s"))));

        static (string, UploadKeyRule) Rule(Action act)
        {
            var e = Assert.Throws<InvalidUploadKeyValueException>(act);
            return (e.Field, e.Rule);
        }
    }

    [Fact]
    public void Create_allocates_only_the_key_string()
    {
        var keys = new UploadKeyGenerator(new UploadKeyOptions { Template = Submissions, Fields = ["class_id", "student_id"] }, new UploadIdGenerator());
        var sample = keys.Create("image/jpeg", ("class_id", "class-7b"), ("student_id", "student-42"));
        for (var i = 0; i < 1_000; i++)
        {
            keys.Create("image/jpeg", ("class_id", "class-7b"), ("student_id", "student-42"));
        }

        // A string of n chars takes 8 (header) + 8 (method table) + 4 (length) + 2n + 2 (terminator) bytes, 8-aligned.
        var stringBytes = (22 + (2 * sample.Length) + 7) & ~7;
        const int Count = 10_000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Count; i++)
        {
            keys.Create("image/jpeg", ("class_id", "class-7b"), ("student_id", "student-42"));
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal((long)Count * stringBytes, allocated);
    }

    [Fact]
    public void Naive_second_resolution_keys_collide_where_these_do_not()
    {
        // The incident: {class_id}/{student_id}/{timestamp_seconds}.jpg, a student double-submitting within one second.
        var second = Start.ToUnixTimeSeconds();
        var naive = Enumerable.Range(0, 2).Select(_ => $"c/s/{second}.jpg").Distinct().Count();
        var keys = Keys(time: new FakeTimeProvider(Start));
        var ours = Enumerable.Range(0, 2).Select(_ => keys.Create("image/jpeg", ("class_id", "c"), ("student_id", "s"))).Distinct().Count();
        Assert.Equal((1, 2), (naive, ours));
    }

    /// <summary>Values that start with '.' half of the time, to meet a literal '.' before a field.</summary>
    private static readonly Gen<string> DottedValues = Gen.OneOf(Values.Safe, Values.Safe.Select(v => "." + v));

    [Property(MaxTest = 500)]
    public Property No_key_holds_dot_dot_where_a_literal_dot_comes_before_a_field() =>
        Prop.ForAll(
            Gen.Elements("x.{name}/{uuid}", "{uuid}.{name}", "{uuid}/v1.{name}", "{uuid}/{name}", "{uuid}_{name}").ToArbitrary(),
            DottedValues.ToArbitrary(),
            (template, value) =>
            {
                var keys = new UploadKeyGenerator(new UploadKeyOptions { Template = template, Fields = ["name"] }, new UploadIdGenerator(new FakeTimeProvider(Start)));
                var afterDot = template.Contains(".{name}", StringComparison.Ordinal);
                if (value.StartsWith('.') && (afterDot || value.StartsWith("..", StringComparison.Ordinal)))
                {
                    var error = Assert.Throws<InvalidUploadKeyValueException>(() => keys.Create("image/png", ("name", value)));
                    Assert.Equal(("name", UploadKeyRule.DotSegment, 0), (error.Field, error.Rule, error.Index));
                    return;
                }

                // Elsewhere a leading '.' is an ordinary (hidden-file) name and is kept exactly.
                var key = keys.Create("image/png", ("name", value));
                Assert.DoesNotContain("..", key, StringComparison.Ordinal);
                Assert.Equal(value, keys.Parse(key).Fields["name"]);
            });

    [Fact]
    public void Parse_refuses_a_key_with_dot_dot_that_no_value_could_have_made()
    {
        var keys = new UploadKeyGenerator("x.{name}/{uuid}", "name");
        var id = keys.NextId();
        Assert.Equal("b", keys.Parse($"x.b/{id}").Fields["name"]);
        var error = Assert.Throws<UploadKeyFormatException>(() => keys.Parse($"x..b/{id}"));
        Assert.Contains("'..'", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_caller_that_changes_its_values_meanwhile_never_gets_an_unchecked_value_into_a_key()
    {
        var keys = Keys(time: new FakeTimeProvider(Start));
        var values = new (string Name, string Value)[] { ("class_id", "c-1"), ("student_id", "s-1") };
        using var stop = new CancellationTokenSource();
        var flipper = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                values[0] = ("class_id", "../../etc");
                values[0] = ("class_id", "c-1");
            }
        }, TestContext.Current.CancellationToken);

        int made = 0, refused = 0;
        try
        {
            // Bounded: stops once both outcomes were seen often, or after two million calls.
            for (var i = 0; i < 2_000_000 && (i < 100_000 || made < 1_000 || refused < 1_000); i++)
            {
                try
                {
                    Assert.StartsWith("c-1/s-1/", keys.Create("image/jpeg", values), StringComparison.Ordinal);
                    made++;
                }
                catch (InvalidUploadKeyValueException error)
                {
                    Assert.Equal(("class_id", UploadKeyRule.DotSegment), (error.Field, error.Rule));
                    refused++;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await flipper;
        }

        Assert.True(made > 0 && refused > 0, $"the race was not exercised: {made} keys made, {refused} refused");
    }

    [Fact]
    public void Parse_refuses_an_over_long_key_before_reading_it()
    {
        var error = Assert.Throws<UploadKeyFormatException>(() => Keys(encoding: UploadKeyValueEncoding.Escape).Parse(new string('!', 5_000_000)));
        Assert.Equal(UploadKeyGenerator.MaxKeyLength, error.Position);
        Assert.Contains("longer than 1024 bytes", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_too_long_for_any_id_is_refused_before_an_id_is_taken()
    {
        var clock = new SteppingClock(Start.ToUnixTimeMilliseconds());
        var error = Assert.Throws<InvalidUploadKeyValueException>(() =>
            Keys(time: clock).Create("image/jpeg", ("class_id", new string('c', 1_000)), ("student_id", "s")));
        Assert.Equal(("key", UploadKeyRule.TooLong), (error.Field, error.Rule));
        Assert.Equal(0, clock.Reads);
    }

    [Fact]
    public void Parse_refuses_an_id_past_the_year_9999_instead_of_failing_on_its_timestamp()
    {
        var keys = new UploadKeyGenerator("{uuid}");
        var error = Assert.Throws<UploadKeyFormatException>(() => keys.Parse("7zzzzzzzzze008000000000000"));
        Assert.Contains("{uuid}", error.Reason, StringComparison.Ordinal);
        var last = keys.Parse(UploadId.Create(UploadId.MaxUnixTimeMilliseconds, UploadId.MaxRandom).ToString());
        Assert.Equal(DateTimeOffset.MaxValue.UtcTicks / TimeSpan.TicksPerMillisecond, last.Id.Timestamp.UtcTicks / TimeSpan.TicksPerMillisecond);
    }

    [Fact]
    public void An_empty_content_type_is_called_empty()
    {
        var error = Assert.Throws<InvalidUploadKeyValueException>(() => Keys().Create(" \t", ("class_id", "c"), ("student_id", "s")));
        Assert.Equal(UploadKeyRule.Empty, error.Rule);
        Assert.StartsWith("The content type is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void After_the_year_2286_a_key_too_long_is_still_refused_before_an_id_is_taken()
    {
        var clock = new SteppingClock(new DateTimeOffset(2300, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        var keys = Keys(time: clock);
        Assert.Contains("/10", keys.Create("image/jpeg", ("class_id", "c"), ("student_id", "s")), StringComparison.Ordinal); // 14 digits now

        // c-value + '/' + 's' + '/' + 14 digits + '_' + 26 + ".jpg" = 1,025 with 14 digits, 1,024 with 13.
        var classId = new string('c', UploadKeyGenerator.MaxKeyLength - (1 + 1 + 1 + 13 + 1 + 26 + 4));
        var error = Assert.Throws<InvalidUploadKeyValueException>(() => keys.Create("image/jpeg", ("class_id", classId), ("student_id", "s")));
        Assert.Equal(("key", UploadKeyRule.TooLong), (error.Field, error.Rule));
        Assert.Equal(1, clock.Reads);
    }

    [Fact]
    public void The_allow_list_is_read_once_so_what_was_checked_is_what_keys_use()
    {
        var types = new ChangingAfterFirstRead(new() { ["image/png"] = "png" }, new() { ["image/png"] = "x/..y" });
        var keys = new UploadKeyGenerator(new UploadKeyOptions { Template = "{uuid}.{ext}", ContentTypes = types });

        Assert.EndsWith(".png", keys.Create("image/png"), StringComparison.Ordinal);
        Assert.Equal(1, types.Reads);
    }

    /// <summary>An allow-list that gives other entries from its second enumeration on, like one another thread changes.</summary>
    private sealed class ChangingAfterFirstRead(Dictionary<string, string> first, Dictionary<string, string> later) : IDictionary<string, string>
    {
        public int Reads { get; private set; }

        private Dictionary<string, string> Current => Reads <= 1 ? first : later;

        public string this[string key] { get => Current[key]; set => throw new NotSupportedException(); }

        public ICollection<string> Keys => Current.Keys;

        public ICollection<string> Values => Current.Values;

        public int Count => Current.Count;

        public bool IsReadOnly => true;

        public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
        {
            Reads++;
            return Current.GetEnumerator();
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public bool ContainsKey(string key) => Current.ContainsKey(key);

        public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out string value) => Current.TryGetValue(key, out value);

        public bool Contains(KeyValuePair<string, string> item) => ((IDictionary<string, string>)Current).Contains(item);

        public void CopyTo(KeyValuePair<string, string>[] array, int arrayIndex) => ((IDictionary<string, string>)Current).CopyTo(array, arrayIndex);

        public void Add(string key, string value) => throw new NotSupportedException();

        public void Add(KeyValuePair<string, string> item) => throw new NotSupportedException();

        public bool Remove(string key) => throw new NotSupportedException();

        public bool Remove(KeyValuePair<string, string> item) => throw new NotSupportedException();

        public void Clear() => throw new NotSupportedException();
    }
}
