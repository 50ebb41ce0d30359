using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Resilience.Uploads.Tests;

public sealed class UploadKeyTemplateTests
{
    [Theory]
    [InlineData("{class_id}/{student_id}/{timestamp_ms}_{uuid}.{ext}")]
    [InlineData("{class_id}/{student_id}/{timestamp_ms}_{uuid}.jpg")]
    [InlineData("{hash}/{class_id}/{student_id}/{uuid}.{ext}")]
    [InlineData("{hash:2}/{class_id}/{student_id}/{timestamp_ms}-{uuid}")]
    [InlineData("submissions/class-{class_id}/{student_id}/{uuid}")]
    [InlineData("{uuid}/{class_id}/{student_id}")]
    public void Valid_templates_are_accepted(string template)
    {
        var keys = new UploadKeyGenerator(template, "class_id", "student_id");
        Assert.Equal(template, keys.Template);
        Assert.Equal(["class_id", "student_id"], keys.Fields);
    }

    [Theory]
    [InlineData("{class_id}/{student_id}/{timestamp_ms}.jpg", "no uniqueness placeholder")]
    [InlineData("{class_id}/{student_id}/{timestamp}_{uuid}.jpg", "{timestamp} at index 24 is unknown")]
    [InlineData("{class_id}/{student_id}/{uuid4}.jpg", "{uuid4} at index 24 is unknown")]
    [InlineData("{class_id}/{student_id}/{uuid}/{teacher_id}", "{teacher_id} at index 31 is unknown")]
    [InlineData("{class_id}/{student_id}/{timestamp_ms}{uuid}", "touch")]
    [InlineData("{class_id}_{student_id}/{uuid}", "{class_id} must be followed by '/'")]
    [InlineData("{class_id}/{student_id}/{uuid}.{ext}x", "{ext} must not be followed")]
    [InlineData("{class_id}/{student_id}/{uuid}.{ext}X", "{ext} must not be followed")]
    [InlineData("{class_id}/{student_id}/{timestamp_ms}1{uuid}", "{timestamp_ms} must not be followed by a digit")]
    [InlineData("{class_id}/{student_id}/{uuid", "never closed")]
    [InlineData("{class_id}/{student_id}/{uuid}}", "no matching")]
    [InlineData("/{class_id}/{student_id}/{uuid}", "starts with '/'")]
    [InlineData("{class_id}/{student_id}/{uuid}/", "ends with '/'")]
    [InlineData("{class_id}//{student_id}/{uuid}", "'//'")]
    [InlineData("{class_id}/../{student_id}/{uuid}", "'..'")]
    [InlineData("{class_id}/./{student_id}/{uuid}", "'.' path segment")]
    [InlineData("{class_id}/{student_id}/{uuid} {ext}", "U+0020")]
    [InlineData("{class_id}/{student_id}/{uuid}/{uuid}", "{uuid} appears 2 times")]
    [InlineData("{class_id}/{student_id}/{class_id}/{uuid}", "{class_id} appears 2 times")]
    [InlineData("{hash:0}/{class_id}/{student_id}/{uuid}", "width from 1 to 16")]
    [InlineData("{hash:x}/{class_id}/{student_id}/{uuid}", "width from 1 to 16")]
    [InlineData("{uuid:2}/{class_id}/{student_id}", "takes no ':' argument")]
    [InlineData("{class_id}/{uuid}", "\"student_id\" does not appear")]
    [InlineData("", "empty")]
    public void Invalid_templates_are_refused_with_the_reason(string template, string reason)
    {
        var error = Assert.Throws<UploadKeyTemplateException>(() => new UploadKeyGenerator(template, "class_id", "student_id"));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.NotEmpty(error.Problems);
        Assert.Equal(template, error.Template);
    }

    [Theory]
    [InlineData("{x}/{uuid}", "", "{x} at index 0 is unknown")]
    [InlineData("{hash:0}/{uuid}", "", "width from 1 to 16")]
    [InlineData("{uuid:1}/x", "", "takes no ':' argument")]
    [InlineData("{class_id:1}/{uuid}", "class_id", "takes no ':' argument")]
    [InlineData("{uuid}/}/x", "", "'}' at index 7 has no matching '{'")]
    [InlineData("{uuid}/x/{", "", "'{' at index 9 is never closed")]
    [InlineData("{uuid}/{a{class_id}", "class_id", "'{' at index 7 is never closed")]
    public void A_placeholder_that_fails_to_parse_is_reported_once_and_nothing_false_follows(string template, string fields, string reason)
    {
        var problems = ProblemsOf(template, fields.Split(',', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(reason, Assert.Single(problems), StringComparison.Ordinal);
    }

    [Property(MaxTest = 2_000)]
    public Property Every_reported_problem_is_true_of_the_template() =>
        Prop.ForAll(
            Gen.Elements(
                    "{", "}", "/", "//", ".", "..", "_", "x", "1", "{uuid}", "{uuid:1}", "{ext}", "{hash}", "{hash:0}", "{hash:3}",
                    "{timestamp_ms}", "{a}", "{a:1}", "{b}", "{x}", "{a/b}", "{.}", "{/}")
                .ArrayOf()
                .Select(parts => string.Concat(parts))
                .ToArbitrary(),
            template =>
            {
                var problems = ProblemsOf(template, "a", "b");
                bool Claims(string text) => problems.Any(p => p.Contains(text, StringComparison.Ordinal));
                var leading = !Claims("starts with '/'") || template.StartsWith('/');
                var trailing = !Claims("ends with '/'") || template.EndsWith('/');
                var empty = !Claims("'//'") || template.Contains("//", StringComparison.Ordinal);
                var dots = !Claims("'..' or a '.' path segment") ||
                           template.Contains("..", StringComparison.Ordinal) || template.Split('/').Contains(".");
                var unique = !Claims("no uniqueness placeholder") || !template.Contains("{uuid}", StringComparison.Ordinal);
                var declared = new[] { "a", "b" }.All(f =>
                    !Claims($"\"{f}\" does not appear") || !template.Contains($"{{{f}}}", StringComparison.Ordinal));
                return (leading && trailing && empty && dots && unique && declared)
                    .Label($"{template}: {string.Join(" | ", problems)}");
            });

    private static IReadOnlyList<string> ProblemsOf(string template, params string[] fields)
    {
        try
        {
            _ = new UploadKeyGenerator(template, fields);
            return [];
        }
        catch (UploadKeyTemplateException e)
        {
            return e.Problems;
        }
    }

    [Fact]
    public void Every_problem_is_listed_at_once()
    {
        var error = Assert.Throws<UploadKeyTemplateException>(() =>
            new UploadKeyGenerator(new UploadKeyOptions
            {
                Template = "/{klass}/{timestamp_ms}{ext}",
                Fields = ["student_id", "Bad Name", "uuid"],
                ContentTypes = { ["image jpeg"] = ".JPG" },
                AttemptSecret = "short",
            }));
        Assert.Contains(error.Problems, p => p.Contains("\"Bad Name\" is not valid", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("\"uuid\" is a built-in", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("{klass}", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("no uniqueness placeholder", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("touch", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("starts with '/'", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("\"student_id\" does not appear", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("not a media type", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("extension \".JPG\"", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("AttemptSecret", StringComparison.Ordinal));
    }

    [Fact]
    public void Content_types_differing_only_in_case_are_refused()
    {
        var error = Assert.Throws<UploadKeyTemplateException>(() => new UploadKeyGenerator(new UploadKeyOptions
        {
            Template = "{uuid}.{ext}",
            ContentTypes = new Dictionary<string, string>(StringComparer.Ordinal) { ["image/png"] = "png", ["IMAGE/PNG"] = "png" },
        }));
        Assert.Contains("case-insensitive", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Property(MaxTest = 1_000)]
    public Property Any_template_text_is_either_accepted_or_refused_with_a_template_exception() =>
        Prop.ForAll(
            Gen.OneOf(
                    Gen.Elements("{", "}", "/", ".", "..", "_", "-", "{uuid}", "{ext}", "{hash}", "{hash:3}", "{timestamp_ms}", "{a}", "{b}", "{zz}", "x", "1", " ", "é", ":")
                )
                .ArrayOf()
                .Select(parts => string.Concat(parts))
                .ToArbitrary(),
            template =>
            {
                try
                {
                    var keys = new UploadKeyGenerator(template, "a", "b");
                    // Accepted templates always produce keys that parse back.
                    var key = keys.Create("image/png", ("a", "x.y"), ("b", "z"));
                    Assert.Equal("x.y", keys.Parse(key)["a"]);
                    return true;
                }
                catch (UploadKeyTemplateException e)
                {
                    return e.Problems.Count > 0;
                }
            });

    [Theory]
    [InlineData("{a}/{uuid}", new[] { "a", "a" }, "The field \"a\" is declared twice.")]
    [InlineData("{uuid}", new[] { "uuid" }, "is a built-in placeholder name")]
    [InlineData("{a}/{uuid}", new[] { "a", "Not-Valid" }, "is not valid")]
    [InlineData("{uuid}", new[] { "uuid", "uuid" }, "is a built-in placeholder name")]
    [InlineData("{uuid}/{a}", new[] { "a", "a", "a" }, "The field \"a\" is declared twice.")]
    [InlineData("{uuid}/{a}", new[] { "a", "Bad", "Bad" }, "is not valid")]
    public void A_bad_declaration_is_its_only_problem(string template, string[] fields, string reason)
    {
        var error = Assert.Throws<UploadKeyTemplateException>(() => new UploadKeyGenerator(template, fields));
        Assert.Contains(reason, Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Property(MaxTest = 300)]
    public Property A_template_is_accepted_exactly_when_its_shortest_key_fits() =>
        Prop.ForAll(Gen.Choose(1, 1_100).ToArbitrary(), Gen.Choose(1, 16).ToArbitrary(), (literal, hash) =>
        {
            var template = $"{{hash:{hash}}}/{new string('p', literal)}/{{class_id}}/{{timestamp_ms}}_{{uuid}}.{{ext}}";

            // hash, '/', literal, '/', one-character value, '/', 13 digits, '_', 26 for the id, '.', "png" (the shortest default).
            var shortest = hash + 1 + literal + 1 + 1 + 1 + 13 + 1 + 26 + 1 + 3;
            if (shortest <= UploadKeyGenerator.MaxKeyLength)
            {
                var key = new UploadKeyGenerator(template, "class_id").Create("image/png", ("class_id", "c"));
                Assert.Equal(shortest, key.Length);
            }
            else
            {
                var error = Assert.Throws<UploadKeyTemplateException>(() => new UploadKeyGenerator(template, "class_id"));
                Assert.Contains($"shortest key is {shortest} bytes", Assert.Single(error.Problems), StringComparison.Ordinal);
            }
        });

    [Fact]
    public void Long_field_names_do_not_count_against_the_key_length()
    {
        var names = Enumerable.Range(0, 16).Select(i => $"f{i:D2}".PadRight(63, 'x')).ToArray();
        var template = string.Join('/', names.Select(n => "{" + n + "}")) + "/{uuid}";
        Assert.True(template.Length > UploadKeyGenerator.MaxKeyLength);
        var key = new UploadKeyGenerator(template, names).Create("image/png", [.. names.Select(n => (n, "v"))]);
        Assert.Equal((16 * 2) + UploadId.TextLength, key.Length);
    }
}
