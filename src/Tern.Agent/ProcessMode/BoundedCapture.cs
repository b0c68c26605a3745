using System.Text;

namespace Tern.Agent.ProcessMode;

/// <summary>Collects a pipe's bytes up to a limit: either the head (stdout, where more means failure)
/// or a rolling tail (stderr, where the last lines explain the failure). Always drains the pipe.
/// After Freeze, further bytes are dropped, so a result can be read while a straggler still writes.</summary>
internal sealed class BoundedCapture(int limit, bool keepTail)
{
    private readonly MemoryStream _buffer = new();
    private readonly Lock _lock = new();
    private bool _frozen;
    private bool _overflowed;

    public bool Overflowed
    {
        get { lock (_lock) return _overflowed; }
    }

    public async Task CopyFromAsync(Stream source)
    {
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await source.ReadAsync(chunk)) > 0)
        {
            lock (_lock)
            {
                if (_frozen) continue; // keep draining so writers never block on a full pipe
                if (!keepTail && _buffer.Length + n > limit)
                {
                    _overflowed = true;
                    continue;
                }
                _buffer.Write(chunk, 0, n);
                if (keepTail && _buffer.Length > 2L * limit) Compact();
            }
        }
    }

    public void Freeze()
    {
        lock (_lock)
        {
            _frozen = true;
            if (keepTail) Compact();
        }
    }

    /// <summary>Removes the last <paramref name="count"/> bytes (a trailer the handler's host added).</summary>
    public void DropLast(int count)
    {
        lock (_lock) _buffer.SetLength(Math.Max(0, _buffer.Length - count));
    }

    private void Compact()
    {
        if (_buffer.Length <= limit) return;
        var tail = _buffer.GetBuffer().AsSpan((int)(_buffer.Length - limit), limit).ToArray();
        _buffer.SetLength(0);
        _buffer.Write(tail);
    }

    public byte[] ToBytes()
    {
        lock (_lock) return _buffer.ToArray();
    }

    public string? ToText() => Text(ToBytes());

    public string? TailText(int max)
    {
        var bytes = ToBytes();
        return Text(bytes.Length > max ? bytes[^max..] : bytes);
    }

    private static string? Text(byte[] bytes) => bytes.Length == 0 ? null : Encoding.UTF8.GetString(bytes);
}
