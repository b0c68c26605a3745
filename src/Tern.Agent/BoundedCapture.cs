using System.Text;

namespace Tern.Agent;

/// <summary>Collects a pipe's bytes up to a limit: either the head (stdout, where more means failure)
/// or a rolling tail (stderr, where the last lines explain the failure). Always drains the pipe.</summary>
internal sealed class BoundedCapture(int limit, bool keepTail)
{
    private readonly MemoryStream _buffer = new();
    public bool Overflowed { get; private set; }

    public async Task CopyFromAsync(Stream source)
    {
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await source.ReadAsync(chunk)) > 0)
        {
            if (!keepTail && _buffer.Length + n > limit)
            {
                Overflowed = true;
                continue; // keep draining so the handler never blocks on a full pipe
            }
            _buffer.Write(chunk, 0, n);
            if (keepTail && _buffer.Length > 2L * limit) Compact();
        }
        if (keepTail) Compact();
    }

    private void Compact()
    {
        if (_buffer.Length <= limit) return;
        var tail = _buffer.GetBuffer().AsSpan((int)(_buffer.Length - limit), limit).ToArray();
        _buffer.SetLength(0);
        _buffer.Write(tail);
    }

    public ReadOnlySpan<byte> ToBytes() => _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length);

    public string? ToText() => _buffer.Length == 0 ? null : Encoding.UTF8.GetString(ToBytes());

    public string? TailText(int max)
    {
        if (_buffer.Length == 0) return null;
        var bytes = ToBytes();
        return Encoding.UTF8.GetString(bytes.Length > max ? bytes[^max..] : bytes);
    }
}
