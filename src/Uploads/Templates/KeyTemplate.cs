using System.Globalization;
using System.Text;

namespace Resilience.Uploads.Templates;

/// <summary>A key template parsed once into segments, with every rule that keeps keys unique and parseable checked.</summary>
internal sealed class KeyTemplate
{
    public const string IdName = "uuid";
    public const string TimestampName = "timestamp_ms";
    public const string ExtensionName = "ext";
    public const string HashName = "hash";
    public const int DefaultHashWidth = 4;
    public const int MaxHashWidth = 16;
    public const int MaxFields = 32;

    /// <summary>The digits <c>{timestamp_ms}</c> has at least (zero-padded; 14 from the year 2286).</summary>
    public const int MinTimestampDigits = 13;

    private static readonly string[] BuiltIns = [IdName, TimestampName, ExtensionName, HashName];

    private KeyTemplate(string text, string[] fields, TemplateSegment[] segments)
    {
        Text = text;
        Fields = fields;
        Segments = segments;
        HasExtension = segments.Any(s => s.Kind == SegmentKind.Extension);
        HasTimestamp = segments.Any(s => s.Kind == SegmentKind.Timestamp);
        FixedLength = segments.Sum(s => s.Kind switch
        {
            SegmentKind.Literal => s.Text.Length,
            SegmentKind.Id => UploadId.TextLength,
            SegmentKind.Hash => s.Width,
            _ => 0,
        });
        FieldFollowsDot = new bool[fields.Length];
        for (var i = 1; i < segments.Length; i++)
        {
            if (segments[i].Kind == SegmentKind.Field && segments[i - 1] is { Kind: SegmentKind.Literal } before && before.Text.EndsWith('.'))
            {
                FieldFollowsDot[segments[i].FieldIndex] = true;
            }
        }
    }

    public string Text { get; }

    public string[] Fields { get; }

    public TemplateSegment[] Segments { get; }

    public bool HasExtension { get; }

    public bool HasTimestamp { get; }

    /// <summary>
    /// Per declared field: the literal right before it ends with '.', so a value starting with '.' would make '..'.
    /// </summary>
    public bool[] FieldFollowsDot { get; }

    /// <summary>The characters every key of this template has whatever the values: literals, <c>{uuid}</c> and the hash.</summary>
    public int FixedLength { get; }

    /// <summary>
    /// The length of the shortest key this template can make: the fixed part, the fewest timestamp digits, one character
    /// per field and the shortest extension.
    /// </summary>
    public int ShortestKeyLength(int shortestExtension) =>
        FixedLength + (HasTimestamp ? MinTimestampDigits : 0) + (HasExtension ? shortestExtension : 0) + Fields.Length;

    /// <summary>Parses and checks a template; adds one sentence per problem and returns null when there is any.</summary>
    public static KeyTemplate? TryParse(string? text, IEnumerable<string>? declaredFields, List<string> problems)
    {
        var before = problems.Count;
        var fields = CheckFields(declaredFields, problems);
        if (string.IsNullOrEmpty(text))
        {
            problems.Add("The template is empty; give one such as {class_id}/{student_id}/{timestamp_ms}_{uuid}.{ext}.");
            return null;
        }

        var segments = Tokenize(text, fields, problems);
        CheckStructure(fields, segments, problems);
        return problems.Count == before ? new KeyTemplate(text, fields, [.. segments]) : null;
    }

    private static string[] CheckFields(IEnumerable<string>? declaredFields, List<string> problems)
    {
        var fields = declaredFields?.ToArray() ?? [];

        // Each name once, in declaration order, for what is wrong with it (a name declared twice is only wrong for that).
        foreach (var declared in fields.GroupBy(f => f))
        {
            var field = declared.Key;
            if (field is null || !IsFieldName(field))
            {
                problems.Add($"The declared field name \"{field}\" is not valid: use lowercase snake_case starting with a letter (a-z, 0-9, _; at most 64 characters).");
            }
            else if (BuiltIns.Contains(field))
            {
                problems.Add($"The declared field \"{field}\" is a built-in placeholder name; choose another name.");
            }
            else if (declared.Skip(1).Any())
            {
                problems.Add($"The field \"{field}\" is declared twice.");
            }
        }

        if (fields.Length > MaxFields)
        {
            problems.Add($"{fields.Length} fields are declared; at most {MaxFields} are supported.");
        }

        return fields;
    }

    private static List<TemplateSegment> Tokenize(string text, string[] fields, List<string> problems)
    {
        var segments = new List<TemplateSegment>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '{')
            {
                // A placeholder runs to the next '}'; a '{' met first means this one is never closed.
                var length = text.AsSpan(i + 1).IndexOfAny('{', '}');
                if (length < 0 || text[i + 1 + length] == '{')
                {
                    // Kept as literal text, so the structure checks below see the template as written.
                    problems.Add($"The '{{' at index {i} is never closed with '}}'.");
                    literal.Append(c);
                    i++;
                    continue;
                }

                FlushLiteral(segments, literal);
                var close = i + 1 + length;
                segments.Add(ParsePlaceholder(text[i..(close + 1)], text.AsSpan(i + 1, length), fields, i, problems));
                i = close + 1;
            }
            else if (c == '}')
            {
                problems.Add($"The '}}' at index {i} has no matching '{{'.");
                literal.Append(c);
                i++;
            }
            else
            {
                if (!SafeCharacters.IsSafe(c) && c != '/')
                {
                    problems.Add($"The literal character U+{(int)c:X4} at index {i} is not S3-safe; literals may use {SafeCharacters.Description} and '/'.");
                }

                literal.Append(c);
                i++;
            }
        }

        FlushLiteral(segments, literal);
        return segments;
    }

    /// <summary>
    /// Reads one placeholder. One that breaks a rule adds its problem and still comes back as a segment of the kind it was
    /// meant to be (<see cref="SegmentKind.Unknown"/> for an unknown name), so that the structure checks see a placeholder
    /// in its place and report nothing that is not true of the template as written.
    /// </summary>
    private static TemplateSegment ParsePlaceholder(string placeholder, ReadOnlySpan<char> content, string[] fields, int index, List<string> problems)
    {
        var colon = content.IndexOf(':');
        var name = (colon < 0 ? content : content[..colon]).ToString();
        var argument = colon < 0 ? null : content[(colon + 1)..].ToString();
        if (name == HashName)
        {
            var width = DefaultHashWidth;
            if (argument is not null &&
                (!int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out width) || width < 1 || width > MaxHashWidth))
            {
                problems.Add($"The placeholder {placeholder} at index {index} needs a width from 1 to {MaxHashWidth}, e.g. {{hash:4}}.");
            }

            return new TemplateSegment(SegmentKind.Hash, placeholder, Width: width);
        }

        var fieldIndex = Array.IndexOf(fields, name);
        var segment = name switch
        {
            IdName => new TemplateSegment(SegmentKind.Id, placeholder),
            TimestampName => new TemplateSegment(SegmentKind.Timestamp, placeholder),
            ExtensionName => new TemplateSegment(SegmentKind.Extension, placeholder),
            _ when fieldIndex >= 0 => new TemplateSegment(SegmentKind.Field, placeholder, FieldIndex: fieldIndex),
            _ => new TemplateSegment(SegmentKind.Unknown, placeholder),
        };
        if (segment.Kind == SegmentKind.Unknown)
        {
            var declared = fields.Length == 0 ? "none" : string.Join(", ", fields);
            problems.Add(
                $"The placeholder {placeholder} at index {index} is unknown: the built-ins are {{uuid}}, {{timestamp_ms}}, {{ext}} and {{hash}} / {{hash:N}}, " +
                $"and caller fields must be declared (declared: {declared}).");
        }
        else if (argument is not null)
        {
            problems.Add($"The placeholder {placeholder} at index {index} takes no ':' argument (only {{hash:N}} does).");
        }

        return segment;
    }

    private static void CheckStructure(string[] fields, List<TemplateSegment> segments, List<string> problems)
    {
        foreach (var kind in new[] { SegmentKind.Id, SegmentKind.Timestamp, SegmentKind.Extension, SegmentKind.Hash })
        {
            var count = segments.Count(s => s.Kind == kind);
            if (count > 1)
            {
                problems.Add($"The placeholder {segments.First(s => s.Kind == kind).Text} appears {count} times; each placeholder may appear once.");
            }
        }

        if (!segments.Any(s => s.Kind == SegmentKind.Id))
        {
            problems.Add(
                "It has no uniqueness placeholder: add {uuid} (a monotonic UUIDv7 with 74 random bits); without it two uploads " +
                "can get the same key. Example: {class_id}/{student_id}/{timestamp_ms}_{uuid}.{ext}.");
        }

        for (var f = 0; f < fields.Length; f++)
        {
            // An invalid, built-in or repeated declaration has its own problem already; it cannot appear as a field.
            if (fields[f] is not { } name || !IsFieldName(name) || BuiltIns.Contains(name) || Array.IndexOf(fields, name) != f)
            {
                continue;
            }

            var count = segments.Count(s => s.Kind == SegmentKind.Field && s.FieldIndex == f);
            if (count == 0)
            {
                problems.Add($"The declared field \"{fields[f]}\" does not appear in the template; add {{{fields[f]}}} or remove the declaration.");
            }
            else if (count > 1)
            {
                problems.Add($"The field {{{fields[f]}}} appears {count} times; each placeholder may appear once.");
            }
        }

        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            var next = i + 1 < segments.Count ? segments[i + 1] : (TemplateSegment?)null;
            if (segment.Kind == SegmentKind.Literal || next is null)
            {
                continue;
            }

            if (next.Value.Kind != SegmentKind.Literal)
            {
                problems.Add($"The placeholders {segment.Text} and {next.Value.Text} touch; put a literal separator between them so keys parse back.");
                continue;
            }

            var following = next.Value.Text[0];
            if (segment.Kind == SegmentKind.Field && following != '/')
            {
                problems.Add(
                    $"The field {segment.Text} must be followed by '/' or end the template: values may hold every other safe character, " +
                    "so anything else would make keys ambiguous to parse.");
            }
            else if (segment.Kind == SegmentKind.Timestamp && char.IsAsciiDigit(following))
            {
                problems.Add($"{segment.Text} must not be followed by a digit, or keys would be ambiguous to parse.");
            }
            else if (segment.Kind == SegmentKind.Extension && char.IsAsciiLetterOrDigit(following))
            {
                problems.Add($"{segment.Text} must not be followed by a letter or digit, or keys would be ambiguous to read.");
            }
        }

        // The shape: every placeholder stands for "x", to check separators and dot segments.
        var shape = string.Concat(segments.Select(s => s.Kind == SegmentKind.Literal ? s.Text : "x"));
        if (shape.StartsWith('/'))
        {
            problems.Add("It starts with '/'; S3 keys have no leading slash (it makes an empty first path segment).");
        }

        if (shape.EndsWith('/'))
        {
            problems.Add("It ends with '/'; that makes a folder marker, not an object key.");
        }

        if (shape.Contains("//", StringComparison.Ordinal))
        {
            problems.Add("It has '//', an empty path segment.");
        }

        if (shape.Contains("..", StringComparison.Ordinal) || shape.Split('/').Contains("."))
        {
            problems.Add("It has '..' or a '.' path segment, which path-based tools read as directory steps.");
        }
    }

    private static void FlushLiteral(List<TemplateSegment> segments, StringBuilder literal)
    {
        if (literal.Length > 0)
        {
            segments.Add(new TemplateSegment(SegmentKind.Literal, literal.ToString()));
            literal.Clear();
        }
    }

    private static bool IsFieldName(string name)
    {
        if (name.Length is 0 or > 64 || !char.IsAsciiLetterLower(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }
}
