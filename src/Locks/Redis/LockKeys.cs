using System.Security.Cryptography;
using StackExchange.Redis;

namespace Resilience.Locks.Redis;

/// <summary>Key names and lease values.</summary>
internal static class LockKeys
{
    /// <summary>Characters of the hex token at the start of every lock value (16 random bytes = 128 bits).</summary>
    public const int TokenLength = 32;

    public static string LockKey(string prefix, string resource) => string.Concat("{", prefix, ":", resource, "}:lock");

    public static string FenceKey(string prefix, string resource) => string.Concat("{", prefix, ":", resource, "}:fence");

    public static RedisKey[] Both(string prefix, string resource) => [LockKey(prefix, resource), FenceKey(prefix, resource)];

    /// <summary>Random bytes drawn from the cryptographic generator per refill: 32 tokens per call into the OS.</summary>
    private const int RandomBatchBytes = 32 * (TokenLength / 2);

    [ThreadStatic]
    private static byte[]? _random;

    [ThreadStatic]
    private static int _randomUsed;

    /// <summary>
    /// A fresh lease value: 128 bits from the cryptographic generator as lowercase hex, then the owner id. The random
    /// bytes are drawn from <see cref="RandomNumberGenerator"/> in per-thread batches (one call into the OS per 32
    /// tokens instead of one per token); each 16-byte slice is used once and wiped as it is taken.
    /// </summary>
    public static string NewValue(string ownerId)
    {
        var buffer = _random;
        var used = _randomUsed;
        if (buffer is null || used + (TokenLength / 2) > buffer.Length)
        {
            buffer = _random ??= new byte[RandomBatchBytes];
            RandomNumberGenerator.Fill(buffer);
            used = 0;
        }

        var bytes = buffer.AsSpan(used, TokenLength / 2);
        _randomUsed = used + (TokenLength / 2);
        Span<char> hex = stackalloc char[TokenLength];
        Convert.TryToHexStringLower(bytes, hex, out _);
        bytes.Clear();
        return string.Concat(hex, ownerId);
    }
}
