namespace Resilience.Drill.Simulation;

/// <summary>A user's prompt context: the system prompt, the AI SDK request and its streamed chunks.</summary>
internal static class PromptContext
{
    /// <summary>Builds a context of <paramref name="bytes"/> bytes, every page touched so that it is resident memory.</summary>
    public static byte[] Build(string userId, int bytes)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(bytes);
        var seed = (byte)userId.GetHashCode(StringComparison.Ordinal);
        for (var i = 0; i < buffer.Length; i += 64)
        {
            buffer[i] = seed;
        }

        return buffer;
    }
}
