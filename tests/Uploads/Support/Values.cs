using FsCheck;
using FsCheck.Fluent;

namespace Resilience.Uploads.Tests.Support;

/// <summary>FsCheck generators for field values: valid ones, and hostile ones that must be refused.</summary>
internal static class Values
{
    public const string SafeChars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!-_.*'()";

    /// <summary>Unicode look-alikes of '/', '.', '\', letters and spaces, and ASCII punctuation outside the safe set.</summary>
    public static readonly char[] LookAlikes =
    [
        '\u2215', // division slash
        '\u2044', // fraction slash
        '\uFF0F', // fullwidth solidus
        '\u29F8', // big solidus
        '\u2216', // set minus (backslash look-alike)
        '\uFF3C', // fullwidth reverse solidus
        '\uFF0E', // fullwidth full stop
        '\u2024', // one dot leader
        '\u2025', // two dot leader
        '\u0430', // Cyrillic a
        '\u043E', // Cyrillic o
        '\u0391', // Greek capital alpha
        '\u00A0', // no-break space
        '\u200B', // zero-width space
        '\u202E', // right-to-left override
        '\uFEFF', // byte order mark
        '\u00E9', // e acute
        '\uD83D', // lone high surrogate
        ' ', '%', '#', '?', '&', '+', '=', '@', ':', ';', ',', '"', '<', '>', '[', ']', '{', '}', '^', '`', '|', '~', '$',
    ];

    /// <summary>Characters that always break a rule: separators, controls, look-alikes.</summary>
    public static readonly char[] Forbidden =
    [
        '/', '\\',
        .. Enumerable.Range(0, 32).Select(i => (char)i),
        '\u007F', '\u0080', '\u0085', '\u009F',
        .. LookAlikes,
    ];

    /// <summary>Valid values: 1-40 safe characters, never containing "..", never ".".</summary>
    public static Gen<string> Safe { get; } =
        (from length in Gen.Choose(1, 40)
         from chars in Gen.Elements(SafeChars.ToCharArray()).ArrayOf(length)
         select new string(chars))
        .Where(s => !s.Contains("..", StringComparison.Ordinal) && s != ".");

    private static Gen<string> SafeOrEmpty { get; } = Gen.OneOf(Gen.Constant(string.Empty), Safe);

    /// <summary>Hostile values: a safe prefix and suffix around traversal, separators, controls, look-alikes or length.</summary>
    public static Gen<string> Hostile { get; } =
        Gen.OneOf(
            from prefix in SafeOrEmpty
            from bad in Gen.Elements(Forbidden)
            from suffix in SafeOrEmpty
            select prefix + bad + suffix,
            from prefix in SafeOrEmpty
            from traversal in Gen.Elements("..", "../", "..\\", "/..", "...", "a/../b", "%2e%2e", "..%2f")
            from suffix in SafeOrEmpty
            select prefix + traversal + suffix,
            Gen.Elements(string.Empty, ".", "..", "/", "\\", "\0", new string('a', 1025), new string('x', 5000)),
            from length in Gen.Choose(1025, 3000)
            select new string('k', length));

    /// <summary>Any UTF-16 text of 1-60 characters without lone surrogates, for the escape encoding.</summary>
    public static Gen<string> AnyText { get; } =
        (from count in Gen.Choose(1, 20)
         from parts in Gen.OneOf(
                 Gen.Elements(Forbidden.Where(c => !char.IsSurrogate(c)).ToArray()).Select(c => c.ToString()),
                 Gen.Elements(SafeChars.ToCharArray()).Select(c => c.ToString()),
                 Gen.Elements("..", "/", "!", ".", "😀", "日本", "é", "\u0000", "!41"),
                 Gen.Choose(0x20, 0xD7FF).Select(i => ((char)i).ToString()))
             .ArrayOf(count)
         select string.Concat(parts))
        .Where(s => s.Length is > 0 and <= 60);
}
