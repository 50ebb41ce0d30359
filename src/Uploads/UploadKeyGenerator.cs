using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Resilience.Uploads.Telemetry;
using Resilience.Uploads.Templates;

namespace Resilience.Uploads;

/// <summary>
/// Builds object-storage keys from one template: unique by construction (a monotonic UUIDv7 in every key), made only of
/// S3-safe characters, at most 1,024 bytes, and parseable back into exactly the values they were built from.
/// Thread-safe; create one per template and keep it.
/// </summary>
/// <example>
/// <code>
/// var keys = new UploadKeyGenerator("{class_id}/{student_id}/{timestamp_ms}_{uuid}.{ext}", "class_id", "student_id");
/// string key = keys.Create("image/jpeg", ("class_id", "c-42"), ("student_id", "s-7"));
/// // c-42/s-7/1796313963990_01m8yafqepeswvsvtqqq5zrq63.jpg
/// UploadKeyParts parts = keys.Parse(key);
/// </code>
/// </example>
public sealed class UploadKeyGenerator
{
    /// <summary>The longest key, in UTF-8 bytes (S3's limit).</summary>
    public const int MaxKeyLength = SafeCharacters.MaxKeyLength;

    private const string ContentTypeField = "content_type";
    private const string AttemptIdField = "attempt_id";
    private const string KeyField = "key";
    private const string AttemptDomain = "resilience.uploads.attempt.v1";

    private readonly KeyTemplate _template;
    private readonly UploadIdGenerator _ids;
    private readonly UploadKeyValueEncoding _encoding;
    private readonly FrozenDictionary<string, string> _extensionsByContentType;
    private readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _extensionLookup;
    private readonly FrozenDictionary<string, string> _contentTypesByExtension;
    private readonly byte[] _attemptKey;
    private readonly UploadMetrics? _metrics;
    private readonly KeyValuePair<string, object?> _templateTag;

    /// <summary>Creates a generator for a template with the given caller fields and default options.</summary>
    /// <param name="template">E.g. <c>{class_id}/{student_id}/{timestamp_ms}_{uuid}.{ext}</c>.</param>
    /// <param name="fields">The caller fields the template uses, e.g. <c>class_id</c>, <c>student_id</c>.</param>
    /// <exception cref="UploadKeyTemplateException">The template is invalid; the message lists every problem.</exception>
    public UploadKeyGenerator(string template, params string[] fields)
        : this(new UploadKeyOptions { Template = template, Fields = fields })
    {
    }

    /// <summary>Creates a generator from options.</summary>
    /// <param name="options">The template and its settings.</param>
    /// <param name="ids">The id source; default <see cref="UploadIdGenerator.Shared"/> (system clock, process-wide order).</param>
    /// <exception cref="UploadKeyTemplateException">The options are invalid; the message lists every problem.</exception>
    public UploadKeyGenerator(UploadKeyOptions options, UploadIdGenerator? ids = null)
        : this(Options.DefaultName, options, ids, metrics: null)
    {
    }

    internal UploadKeyGenerator(string name, UploadKeyOptions options, UploadIdGenerator? ids, UploadMetrics? metrics)
    {
        ArgumentNullException.ThrowIfNull(options);

        // Read the caller's options once: what is checked is what the generator is built from, even if another thread
        // changes the options (or the allow-list dictionary) meanwhile.
        options = Snapshot(options);
        var problems = new List<string>();
        var template = Validate(options, problems, out var contentTypes);
        if (template is null || problems.Count > 0)
        {
            throw new UploadKeyTemplateException(options.Template ?? string.Empty, problems);
        }

        Name = name;
        _template = template;
        Fields = Array.AsReadOnly(template.Fields);
        _ids = ids ?? UploadIdGenerator.Shared;
        _encoding = options.ValueEncoding;
        _extensionsByContentType = contentTypes.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _extensionLookup = _extensionsByContentType.GetAlternateLookup<ReadOnlySpan<char>>();
        _contentTypesByExtension = contentTypes
            .GroupBy(p => p.Value, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.First().Key, StringComparer.Ordinal);
        _attemptKey = Encoding.UTF8.GetBytes(options.AttemptSecret ?? "resilience.uploads.template:" + template.Text);
        _metrics = metrics;
        _templateTag = new(UploadMetrics.TemplateTag, name);
    }

    /// <summary>The name this template was registered under (<see cref="Options.DefaultName"/> when unnamed).</summary>
    public string Name { get; }

    /// <summary>The template text.</summary>
    public string Template => _template.Text;

    /// <summary>The caller fields the template uses, in declaration order.</summary>
    public IReadOnlyList<string> Fields { get; }

    /// <summary>The id source.</summary>
    public UploadIdGenerator Ids => _ids;

    /// <summary>
    /// Creates a new, never-before-returned key: a fresh monotonic id, the given field values and the extension of
    /// <paramref name="contentType"/>. One allocation: the returned string.
    /// </summary>
    /// <param name="contentType">The upload's content type, e.g. <c>image/jpeg</c>; must be in the allow-list.</param>
    /// <param name="fields">One value per declared field, e.g. <c>("class_id", "c-42"), ("student_id", "s-7")</c>.</param>
    /// <exception cref="InvalidUploadKeyValueException">A value breaks a rule; the exception names the field and the rule.</exception>
    public string Create(string contentType, params ReadOnlySpan<(string Name, string Value)> fields)
    {
        var buffer = default(FieldValues);
        Span<string> values = buffer[.._template.Fields.Length];
        var extension = Prepare(contentType, fields, values, out var length);
        return Render(_ids.Next(), extension, values, length);
    }

    /// <summary>
    /// Creates the key for a given id. The same id and values always give the same key, so an id handed out when an upload
    /// starts (<see cref="NextId"/>) makes its retries overwrite only themselves; two different ids never give the same key.
    /// </summary>
    /// <param name="id">The upload's id, e.g. kept from the first attempt.</param>
    /// <param name="contentType">The upload's content type; must be in the allow-list.</param>
    /// <param name="fields">One value per declared field.</param>
    /// <exception cref="ArgumentException"><paramref name="id"/> is <c>default</c>.</exception>
    /// <exception cref="InvalidUploadKeyValueException">A value breaks a rule.</exception>
    public string Create(UploadId id, string contentType, params ReadOnlySpan<(string Name, string Value)> fields)
    {
        if (id.IsEmpty)
        {
            throw new ArgumentException("The upload id is default(UploadId); take one from NextId() or UploadId.Parse.", nameof(id));
        }

        var buffer = default(FieldValues);
        Span<string> values = buffer[.._template.Fields.Length];
        var extension = Prepare(contentType, fields, values, out var length);
        return Render(id, extension, values, length);
    }

    /// <summary>
    /// Creates the key for a caller-supplied upload-attempt id (e.g. an idempotency key sent by the client): a retry with the
    /// same attempt id, start time, content type and values gets the same key; different attempts get different keys.
    /// </summary>
    /// <remarks>
    /// The id's timestamp is <paramref name="attemptStartedAt"/>; its 74 random bits are the first 74 bits of
    /// HMAC-SHA256(<see cref="UploadKeyOptions.AttemptSecret"/>, attempt id, field values, extension). Attempts that differ in
    /// any field value or in the start millisecond can never collide, because those are written into the key verbatim.
    /// Attempts that agree on all of those and differ only in the attempt id collide only if the truncated HMAC does:
    /// for n such attempts the chance is at most n²/2^75 (about 1 in 10^10 for a million of them).
    /// </remarks>
    /// <param name="attemptId">The caller's attempt id: 1 to 1,024 characters of valid Unicode.</param>
    /// <param name="attemptStartedAt">When the attempt first started; keep it with the attempt id for retries.</param>
    /// <param name="contentType">The upload's content type; must be in the allow-list.</param>
    /// <param name="fields">One value per declared field.</param>
    /// <exception cref="InvalidUploadKeyValueException">A value breaks a rule.</exception>
    public string CreateForAttempt(string attemptId, DateTimeOffset attemptStartedAt, string contentType, params ReadOnlySpan<(string Name, string Value)> fields)
    {
        if (string.IsNullOrEmpty(attemptId))
        {
            throw Reject(AttemptIdField, UploadKeyRule.Empty, "The attempt id is empty; pass the client's id for this upload attempt.");
        }

        if (attemptId.Length > MaxKeyLength)
        {
            throw Reject(AttemptIdField, UploadKeyRule.TooLong, $"The attempt id has {attemptId.Length} characters; at most {MaxKeyLength} are allowed.");
        }

        if (!SafeCharacters.IsValidUtf16(attemptId, out var bad))
        {
            throw Reject(AttemptIdField, UploadKeyRule.InvalidUnicode, $"The attempt id has a lone surrogate at index {bad}.", bad);
        }

        // Every later DateTimeOffset fits the id's range (up to the end of year 9999); only times before 1970 do not.
        var ms = attemptStartedAt.ToUnixTimeMilliseconds();
        if (ms < 0)
        {
            throw Reject("attempt_started_at", UploadKeyRule.TimestampOutOfRange,
                $"The attempt start {attemptStartedAt:O} is before 1970-01-01, where UUIDv7 timestamps begin.");
        }

        var buffer = default(FieldValues);
        Span<string> values = buffer[.._template.Fields.Length];
        var extension = Prepare(contentType, fields, values, out var length);
        var id = DeriveAttemptId(attemptId, ms, values, extension);
        return Render(id, extension, values, length);
    }

    /// <summary>A fresh id from this generator's id source, to hand out when an upload starts and reuse for its retries.</summary>
    public UploadId NextId() => _ids.Next();

    /// <summary>Parses a key built with this template back into its values.</summary>
    /// <exception cref="UploadKeyFormatException">The key does not match the template exactly.</exception>
    public UploadKeyParts Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return TryParseCore(key, out var parts, out var reason, out var position)
            ? parts
            : throw new UploadKeyFormatException(reason, position);
    }

    /// <summary>Tries to parse a key built with this template; false when it does not match exactly.</summary>
    public bool TryParse([NotNullWhen(true)] string? key, [NotNullWhen(true)] out UploadKeyParts? parts)
    {
        if (key is null)
        {
            parts = null;
            return false;
        }

        var ok = TryParseCore(key, out var result, out _, out _);
        parts = ok ? result : null;
        return ok;
    }

    /// <summary>A copy of <paramref name="options"/> made in one pass over each of its members.</summary>
    internal static UploadKeyOptions Snapshot(UploadKeyOptions options) => new()
    {
        Template = options.Template,
        Fields = options.Fields?.ToArray()!,
        ContentTypes = options.ContentTypes is { } types ? CopyOnce(types) : null!,
        ValueEncoding = options.ValueEncoding,
        AttemptSecret = options.AttemptSecret,
    };

    private static Dictionary<string, string> CopyOnce(IEnumerable<KeyValuePair<string, string>> types)
    {
        var copy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (contentType, extension) in types)
        {
            if (contentType is not null)
            {
                copy[contentType] = extension;
            }
        }

        return copy;
    }

    /// <summary>Checks options; adds one sentence per problem. Returns the parsed template when it parses.</summary>
    internal static KeyTemplate? Validate(UploadKeyOptions options, List<string> problems, out IReadOnlyDictionary<string, string> contentTypes)
    {
        var template = KeyTemplate.TryParse(options.Template, options.Fields, problems);
        contentTypes = options.ContentTypes is { Count: > 0 } custom ? custom.AsReadOnly() : UploadKeyOptions.DefaultContentTypes;
        if (template is not null)
        {
            var shortestExtension = contentTypes.Values.Select(e => e?.Length ?? 0).DefaultIfEmpty(0).Min();
            var shortest = template.ShortestKeyLength(shortestExtension);
            if (shortest > MaxKeyLength)
            {
                problems.Add(
                    $"Its shortest key is {shortest} bytes (literals, 26 for {{uuid}}, {KeyTemplate.MinTimestampDigits} for {{timestamp_ms}}, the hash, the shortest " +
                    $"extension and one character per field); a whole key may have at most {MaxKeyLength} bytes.");
            }
        }
        foreach (var clash in contentTypes.Keys.Where(k => k is not null).GroupBy(k => k, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            problems.Add($"ContentTypes: \"{clash.Key}\" is listed {clash.Count()} times with different letter case; content types are case-insensitive.");
        }

        foreach (var (contentType, extension) in contentTypes)
        {
            if (!IsMediaType(contentType))
            {
                problems.Add($"ContentTypes: \"{contentType}\" is not a media type like image/jpeg.");
            }

            if (extension is null || extension.Length is 0 or > 16 || !extension.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
            {
                problems.Add($"ContentTypes: the extension \"{extension}\" for {contentType} must be 1-16 characters of a-z 0-9, without the dot.");
            }
        }

        if (!Enum.IsDefined(options.ValueEncoding))
        {
            problems.Add($"ValueEncoding: {(int)options.ValueEncoding} is not a defined UploadKeyValueEncoding.");
        }

        if (options.AttemptSecret is { Length: < 16 })
        {
            problems.Add($"AttemptSecret: it has {options.AttemptSecret.Length} characters; use at least 16 (or leave it null).");
        }

        return template;
    }

    private static bool IsMediaType(string? value)
    {
        var slash = value?.IndexOf('/') ?? -1;
        return value is not null && slash > 0 && slash < value.Length - 1 && value.IndexOf('/', slash + 1) < 0 &&
               value.All(c => c > ' ' && c < 127 && c != ';');
    }

    /// <summary>
    /// Reads each caller value once into <paramref name="values"/> (template order) and checks every value, the content
    /// type and the key length before any id is taken; returns the extension, and the key length without the timestamp.
    /// </summary>
    private string Prepare(string contentType, ReadOnlySpan<(string Name, string Value)> fields, Span<string> values, out int length)
    {
        ResolveFields(fields, values);
        length = _template.FixedLength;
        for (var f = 0; f < values.Length; f++)
        {
            length += CheckValue(f, values[f]);
        }

        var extension = ResolveExtension(contentType);
        length += _template.HasExtension ? extension.Length : 0;

        // The timestamp's digits depend on the id: checked here with the fewest the next id can have (it is never older
        // than the last one), exactly in Render.
        CheckKeyLength(length + (_template.HasTimestamp ? TimestampLength(_ids.LastTimestamp) : 0));
        return extension;
    }

    /// <summary>Renders the checked copies in <paramref name="values"/>; the caller's span is not read again.</summary>
    private string Render(UploadId id, string extension, ReadOnlySpan<string> values, int length)
    {
        if (_template.HasTimestamp)
        {
            length += TimestampLength(id.UnixTimeMilliseconds);
            CheckKeyLength(length);
        }

        // Exact length first, then one allocation written in place.
        var key = string.Create(length, new RenderState(this, id, extension, values), static (span, state) =>
        {
            var written = state.Generator.RenderInto(span, state.Id, state.Extension, state.Values);
            if (written != span.Length)
            {
                throw new InvalidOperationException($"Rendered {written} characters into a key of {span.Length}.");
            }
        });
        _metrics?.KeysCreated.Add(1, _templateTag);
        return key;
    }

    private void CheckKeyLength(int length)
    {
        if (length > MaxKeyLength)
        {
            throw Reject(KeyField, UploadKeyRule.TooLong,
                $"The key would be {length} bytes, more than {MaxKeyLength} (S3's limit); shorten the field values or the template.");
        }
    }

    /// <summary>Digits of "D13": 13 until the year 2286, then 14, and 15 from the year 5138.</summary>
    private static int TimestampLength(long unixMs) =>
        unixMs < 10_000_000_000_000 ? KeyTemplate.MinTimestampDigits : unixMs < 100_000_000_000_000 ? 14 : 15;

    /// <summary>Writes the key; returns its length, or -1 when it does not fit in the buffer.</summary>
    private int RenderInto(Span<char> buffer, UploadId id, string? extension, ReadOnlySpan<string> values)
    {
        var pos = 0;
        foreach (var segment in _template.Segments)
        {
            var rest = buffer[pos..];
            int written;
            switch (segment.Kind)
            {
                case SegmentKind.Literal:
                    if (!segment.Text.TryCopyTo(rest))
                    {
                        return -1;
                    }

                    written = segment.Text.Length;
                    break;
                case SegmentKind.Field:
                    var value = values[segment.FieldIndex];
                    if (_encoding == UploadKeyValueEncoding.Escape)
                    {
                        SafeCharacters.TryMeasureEscaped(value, out var encodedLength, out _, out _);
                        if (encodedLength > rest.Length)
                        {
                            return -1;
                        }

                        written = SafeCharacters.WriteEscaped(value, rest);
                    }
                    else
                    {
                        if (!value.TryCopyTo(rest))
                        {
                            return -1;
                        }

                        written = value.Length;
                    }

                    break;
                case SegmentKind.Id:
                    if (!id.TryFormat(rest, out written))
                    {
                        return -1;
                    }

                    break;
                case SegmentKind.Timestamp:
                    if (!id.UnixTimeMilliseconds.TryFormat(rest, out written, "D13", CultureInfo.InvariantCulture))
                    {
                        return -1;
                    }

                    break;
                case SegmentKind.Extension:
                    if (!extension.AsSpan().TryCopyTo(rest))
                    {
                        return -1;
                    }

                    written = extension!.Length;
                    break;
                case SegmentKind.Hash:
                    if (rest.Length < segment.Width)
                    {
                        return -1;
                    }

                    WriteHash(id, rest[..segment.Width]);
                    written = segment.Width;
                    break;
                default:
                    throw new InvalidOperationException($"Unknown segment kind {segment.Kind}.");
            }

            pos += written;
        }

        return pos;
    }

    /// <summary>
    /// Copies each value into its declared field's place in <paramref name="values"/>, reading every pair of the caller's
    /// span once, so a caller that changes its array meanwhile cannot slip an unchecked value past the checks.
    /// </summary>
    private void ResolveFields(ReadOnlySpan<(string Name, string Value)> fields, Span<string> values)
    {
        Span<bool> given = stackalloc bool[values.Length];
        var declared = _template.Fields;
        for (var i = 0; i < fields.Length; i++)
        {
            var (name, value) = fields[i];
            if (string.IsNullOrEmpty(name))
            {
                throw Reject($"fields[{i}]", UploadKeyRule.EmptyFieldName,
                    $"The value at fields[{i}] has {(name is null ? "a null" : "an empty")} field name; name each value after one of " +
                    $"the fields of {_template.Text}: {FieldList()}.");
            }

            var index = Array.IndexOf(declared, name);
            if (index < 0)
            {
                throw Reject(name, UploadKeyRule.UnknownField,
                    $"The template {_template.Text} has no field \"{name}\"; its fields are: {FieldList()}.");
            }

            if (given[index])
            {
                throw Reject(name, UploadKeyRule.DuplicateField, $"The field \"{name}\" was given twice.");
            }

            given[index] = true;
            values[index] = value;
        }

        for (var f = 0; f < given.Length; f++)
        {
            if (!given[f])
            {
                throw Reject(declared[f], UploadKeyRule.MissingField,
                    $"The template {_template.Text} needs a value for \"{declared[f]}\"; its fields are: {FieldList()}.");
            }
        }
    }

    /// <summary>Checks one value; returns how many characters it takes in the key.</summary>
    private int CheckValue(int f, string? value)
    {
        var field = _template.Fields[f];
        var escaped = 0;
        var ok = _encoding == UploadKeyValueEncoding.Escape
            ? SafeCharacters.TryMeasureEscaped(value, out escaped, out var rule, out var index)
            : SafeCharacters.TryCheckRaw(value, out rule, out index);
        if (!ok)
        {
            throw Reject(field, rule, DescribeValueProblem(field, value, rule, index, escaped), index < 0 ? null : index);
        }

        if (_encoding == UploadKeyValueEncoding.Escape)
        {
            return escaped; // the escaped form has no '.', so no '..' can form with the template's literals
        }

        if (_template.FieldFollowsDot[f] && value![0] == '.')
        {
            throw Reject(field, UploadKeyRule.DotSegment,
                $"The value of \"{field}\" starts with '.', and the template {_template.Text} has a '.' right before " +
                $"{{{field}}}, so the key would hold '..'. Values after a literal '.' must not start with '.'.", 0);
        }

        return value!.Length;
    }

    // escapedLength: under Escape, the value's escaped length when it was measured (0 otherwise).
    private static string DescribeValueProblem(string field, string? value, UploadKeyRule rule, int index, int escapedLength)
    {
        var at = index >= 0 && value is not null ? $" (U+{(int)value[index]:X4} at index {index})" : string.Empty;
        var what = rule switch
        {
            UploadKeyRule.Empty => "is empty",
            UploadKeyRule.TooLong when escapedLength > 0 =>
                $"is {escapedLength} characters once escaped, more than a whole key may have ({MaxKeyLength} bytes)",
            UploadKeyRule.TooLong => $"has {value?.Length} characters, more than a whole key may have ({MaxKeyLength} bytes)",
            UploadKeyRule.PathSeparator => $"contains a path separator{at}",
            UploadKeyRule.ControlCharacter => $"contains a control character{at}",
            UploadKeyRule.DotSegment => $"contains '..' or is '.'{at}",
            UploadKeyRule.InvalidUnicode => $"contains a lone surrogate{at}",
            _ => $"contains a character outside {SafeCharacters.Description}{at}",
        };
        return $"The value of \"{field}\" {what}. Field values may only use {SafeCharacters.Description}, must not be empty, " +
               "contain '..' or be '.'; set UploadKeyOptions.ValueEncoding = Escape to encode other characters reversibly instead.";
    }

    private string ResolveExtension(string? contentType)
    {
        if (contentType is null)
        {
            throw Reject(ContentTypeField, UploadKeyRule.Empty, $"The content type is missing; allowed: {AllowedContentTypes()}.");
        }

        var mediaType = contentType.AsSpan();
        var semicolon = mediaType.IndexOf(';');
        if (semicolon >= 0)
        {
            mediaType = mediaType[..semicolon];
        }

        // Only HTTP's optional white space (space and tab) is trimmed; any other character makes an unknown type.
        mediaType = mediaType.Trim(" \t");
        if (_extensionLookup.TryGetValue(mediaType, out var extension))
        {
            return extension;
        }

        if (mediaType.IsEmpty && semicolon < 0)
        {
            throw Reject(ContentTypeField, UploadKeyRule.Empty, $"The content type is empty; allowed: {AllowedContentTypes()}.");
        }

        throw Reject(ContentTypeField, UploadKeyRule.UnknownContentType,
            $"The content type is not in the allow-list, so no extension can be chosen; allowed: {AllowedContentTypes()}.");
    }

    private UploadId DeriveAttemptId(string attemptId, long unixMs, ReadOnlySpan<string> values, string? extension)
    {
        // Length-prefixed so that no two different inputs give the same byte string.
        var size = AttemptDomain.Length + 4 + SafeCharacters.Utf8Length(attemptId) + 4 + (extension?.Length ?? 0);
        foreach (var value in values)
        {
            size += 4 + SafeCharacters.Utf8Length(value);
        }

        var rented = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var buffer = rented.AsSpan(0, size);
            var pos = Encoding.ASCII.GetBytes(AttemptDomain, buffer);
            pos += WritePrefixed(attemptId, buffer[pos..]);
            foreach (var value in values)
            {
                pos += WritePrefixed(value, buffer[pos..]);
            }

            pos += WritePrefixed(extension ?? string.Empty, buffer[pos..]);
            Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
            HMACSHA256.HashData(_attemptKey, buffer[..pos], mac);
            var random = ((UInt128)(BinaryPrimitives.ReadUInt16BigEndian(mac) & 0x3FFu) << 64) | BinaryPrimitives.ReadUInt64BigEndian(mac[2..]);
            return UploadId.Create(unixMs, random);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        static int WritePrefixed(string text, Span<byte> destination)
        {
            var count = SafeCharacters.WriteUtf8(text, destination[4..]);
            BinaryPrimitives.WriteInt32BigEndian(destination, count);
            return 4 + count;
        }
    }

    private static void WriteHash(UploadId id, Span<char> destination)
    {
        // MurmurHash3's 64-bit finaliser over both halves: any change in the id changes every hex digit with p ~ 15/16.
        var h = id.High ^ (id.Low * 0x9E3779B97F4A7C15UL);
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 33;
        for (var i = 0; i < destination.Length; i++)
        {
            var nibble = (int)(h >> (60 - (4 * i))) & 0xF;
            destination[i] = (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
        }
    }

    private bool TryParseCore(string key, [NotNullWhen(true)] out UploadKeyParts? parts, out string reason, out int position)
    {
        parts = null;
        if (key.Length > MaxKeyLength)
        {
            // Every character is at least one UTF-8 byte: refused before any of it is read.
            position = MaxKeyLength;
            reason = $"the key is longer than {MaxKeyLength} bytes";
            return false;
        }

        var pos = 0;
        UploadId id = default;
        long? timestamp = null;
        string? extension = null;
        string? hash = null;
        var values = new string[_template.Fields.Length];
        foreach (var segment in _template.Segments)
        {
            position = pos;
            var rest = key.AsSpan(pos);
            switch (segment.Kind)
            {
                case SegmentKind.Literal:
                    if (!rest.StartsWith(segment.Text, StringComparison.Ordinal))
                    {
                        reason = $"expected \"{segment.Text}\"";
                        return false;
                    }

                    pos += segment.Text.Length;
                    break;
                case SegmentKind.Id:
                    if (rest.Length < UploadId.TextLength || !UploadId.TryParse(rest[..UploadId.TextLength], out id))
                    {
                        reason = "expected a 26-character upload id for {uuid}";
                        return false;
                    }

                    pos += UploadId.TextLength;
                    break;
                case SegmentKind.Timestamp:
                    {
                        var digits = CountWhile(rest, char.IsAsciiDigit);
                        if (digits is 0 or > 15 || !long.TryParse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
                        {
                            reason = "expected 13 to 15 digits for {timestamp_ms}";
                            return false;
                        }

                        timestamp = ms;
                        pos += digits;
                        break;
                    }

                case SegmentKind.Extension:
                    {
                        var count = CountWhile(rest, static c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c));
                        extension = rest[..count].ToString();
                        if (!_contentTypesByExtension.ContainsKey(extension))
                        {
                            reason = "the extension is not in the allow-list";
                            return false;
                        }

                        pos += count;
                        break;
                    }

                case SegmentKind.Hash:
                    if (rest.Length < segment.Width || CountWhile(rest[..segment.Width], char.IsAsciiHexDigitLower) != segment.Width)
                    {
                        reason = $"expected {segment.Width} lowercase hex characters for {segment.Text}";
                        return false;
                    }

                    hash = rest[..segment.Width].ToString();
                    pos += segment.Width;
                    break;
                case SegmentKind.Field:
                    {
                        var count = rest.IndexOf('/');
                        var raw = count < 0 ? rest : rest[..count];
                        string? value;
                        if (_encoding == UploadKeyValueEncoding.Escape)
                        {
                            if (raw.IsEmpty || !SafeCharacters.TryUnescape(raw, out value))
                            {
                                reason = $"the value of {segment.Text} is not a well-formed escaped value";
                                return false;
                            }
                        }
                        else
                        {
                            if (!SafeCharacters.TryCheckRaw(raw, out var rule, out _))
                            {
                                reason = $"the value of {segment.Text} breaks the rule {rule}";
                                return false;
                            }

                            if (_template.FieldFollowsDot[segment.FieldIndex] && raw[0] == '.')
                            {
                                reason = $"the value of {segment.Text} starts with '.' right after a '.', which makes '..'";
                                return false;
                            }

                            value = raw.ToString();
                        }

                        values[segment.FieldIndex] = value!;
                        pos += raw.Length;
                        break;
                    }
            }
        }

        position = pos;
        if (pos != key.Length)
        {
            reason = "unexpected text after the end of the template";
            return false;
        }

        if (timestamp is { } t && t != id.UnixTimeMilliseconds)
        {
            position = 0;
            reason = "{timestamp_ms} differs from the timestamp inside {uuid}";
            return false;
        }

        // Exactness: the values must render to this very key (canonical digits, escapes and hash).
        Span<char> buffer = stackalloc char[MaxKeyLength];
        var length = RenderInto(buffer, id, extension, values);
        if (length < 0 || !buffer[..length].SequenceEqual(key))
        {
            position = 0;
            reason = "the key is not in canonical form (timestamp padding, partition hash or escapes differ from what this template writes)";
            return false;
        }

        var fieldMap = new Dictionary<string, string>(values.Length, StringComparer.Ordinal);
        for (var f = 0; f < values.Length; f++)
        {
            fieldMap[_template.Fields[f]] = values[f];
        }

        parts = new UploadKeyParts(id, fieldMap.AsReadOnly(), extension, extension is null ? null : _contentTypesByExtension[extension], hash);
        reason = string.Empty;
        return true;
    }

    private static int CountWhile(ReadOnlySpan<char> text, Func<char, bool> predicate)
    {
        var count = 0;
        while (count < text.Length && predicate(text[count]))
        {
            count++;
        }

        return count;
    }

    private InvalidUploadKeyValueException Reject(string field, UploadKeyRule rule, string message, int? index = null)
    {
        // An unknown field's name comes from the caller: tagging it would give the metric unbounded cardinality.
        _metrics?.KeysRejected.Add(
            1,
            _templateTag,
            new KeyValuePair<string, object?>(UploadMetrics.FieldTag, rule == UploadKeyRule.UnknownField ? UploadMetrics.UnknownFieldTagValue : field),
            new KeyValuePair<string, object?>(UploadMetrics.ErrorTypeTag, rule.ToString()));
        return new InvalidUploadKeyValueException(field, rule, message, index);
    }

    /// <summary>One call's values in the template's field order, on the stack (at most <see cref="KeyTemplate.MaxFields"/>).</summary>
    [InlineArray(KeyTemplate.MaxFields)]
    private struct FieldValues
    {
        private string _value;
    }

    private readonly ref struct RenderState(
        UploadKeyGenerator generator, UploadId id, string extension, ReadOnlySpan<string> values)
    {
        public UploadKeyGenerator Generator { get; } = generator;

        public UploadId Id { get; } = id;

        public string Extension { get; } = extension;

        public ReadOnlySpan<string> Values { get; } = values;
    }

    private string FieldList() => _template.Fields.Length == 0 ? "(none)" : string.Join(", ", _template.Fields);

    private string AllowedContentTypes() => string.Join(", ", _extensionsByContentType.Keys.Order(StringComparer.Ordinal));
}
