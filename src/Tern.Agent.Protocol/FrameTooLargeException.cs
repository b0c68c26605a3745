namespace Tern.Agent.Protocol;

/// <summary>A frame above the size limit. The reader has skipped its payload, so the stream stays usable.</summary>
public sealed class FrameTooLargeException(long size, int limit)
    : IOException($"agent frame of {size} bytes exceeds the {limit}-byte limit")
{
    public long Size { get; } = size;
    public int Limit { get; } = limit;
}
