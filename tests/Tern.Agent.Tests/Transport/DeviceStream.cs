using Microsoft.Win32.SafeHandles;

namespace Tern.Agent.Tests.Transport;

/// <summary>The pty master as the host's stream: an unbuffered FileStream (which reads and writes a device that cannot
/// seek) whose async reads and writes are its blocking calls on pool threads, each on its own. Stream's default async
/// methods would serialize them, and the host's read loop waits in a read while it writes.</summary>
internal sealed class DeviceStream(SafeFileHandle handle) : Stream
{
    private readonly FileStream _file = new(handle, FileAccess.ReadWrite, bufferSize: 0);

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
        new(Task.Run(() => _file.Read(buffer.Span), ct));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) =>
        new(Task.Run(() => _file.Write(buffer.Span), ct));

    public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => _file.Read(buffer, offset, count);
    public override void Write(byte[] buffer, int offset, int count) => _file.Write(buffer, offset, count);
    public override void Flush() { }
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
        base.Dispose(disposing);
    }
}
