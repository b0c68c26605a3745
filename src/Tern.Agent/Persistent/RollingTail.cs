using System.Text;

namespace Tern.Agent.Persistent;

/// <summary>The last bytes of a long-lived pipe (a persistent handler's stderr), with a running byte count so a
/// call can take just what was written while it ran. Always drains the pipe.</summary>
internal sealed class RollingTail(int limit)
{
    private readonly MemoryStream _buffer = new();
    private readonly Lock _lock = new();
    private long _total;

    /// <summary>Bytes written so far; pass it to <see cref="TextSince"/> later.</summary>
    public long Mark
    {
        get => Volatile.Read(ref _total);
    }

    /// <summary>Drains <paramref name="source"/> until it ends, on the calling thread (a pump thread of its own).</summary>
    public void CopyFrom(Stream source)
    {
        var chunk = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = source.Read(chunk)) > 0)
            {
                lock (_lock)
                {
                    _buffer.Write(chunk, 0, n);
                    _total += n;
                    if (_buffer.Length > 2L * limit) Compact();
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
    }

    private void Compact()
    {
        var tail = _buffer.GetBuffer().AsSpan((int)(_buffer.Length - limit), limit).ToArray();
        _buffer.SetLength(0);
        _buffer.Write(tail);
    }

    /// <summary>What was written since <paramref name="mark"/> (at most the last <paramref name="maxBytes"/>); null if nothing.</summary>
    public string? TextSince(long mark, int maxBytes)
    {
        if (Volatile.Read(ref _total) == mark) return null; // the common case: the call wrote nothing
        lock (_lock)
        {
            var held = _buffer.Length;
            var available = Math.Min(held, _total - mark);
            var take = (int)Math.Min(available, maxBytes);
            if (take <= 0) return null;
            return Encoding.UTF8.GetString(_buffer.GetBuffer(), (int)(held - take), take);
        }
    }

    /// <summary>The last <paramref name="maxBytes"/> written; null if nothing.</summary>
    public string? Text(int maxBytes) => TextSince(0, maxBytes);
}
