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

    /// <summary>A fresh lease value: 128 bits from the cryptographic generator as lowercase hex, then the owner id.</summary>
    public static string NewValue(string ownerId)
    {
        Span<byte> bytes = stackalloc byte[TokenLength / 2];
        RandomNumberGenerator.Fill(bytes);
        Span<char> hex = stackalloc char[TokenLength];
        Convert.TryToHexStringLower(bytes, hex, out _);
        return string.Concat(hex, ownerId);
    }
}
