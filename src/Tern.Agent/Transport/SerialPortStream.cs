using Microsoft.Win32.SafeHandles;

namespace Tern.Agent.Transport;

/// <summary>A serial device as a duplex stream: blocking read(2) and write(2) on one descriptor, which the agent's
/// frame-reading thread and its answer writers use at the same time, one system call per read as on a socket.
/// Only the blocking methods are for use: Stream's default async ones would serialize a read and a write.</summary>
/// <param name="rejoin">Keep waiting when the host leaves: a microVM restored from a snapshot gets a new host socket,
/// and its agent must carry on over it (TERN_AGENT_SERIAL_REJOIN=1).</param>
internal sealed class SerialPortStream(SafeFileHandle handle, string path, bool rejoin = false) : Stream
{
    /// <summary>How often to look again for a host that has not opened its end yet.</summary>
    private static readonly TimeSpan HostAbsentPause = TimeSpan.FromMilliseconds(50);

    private bool _received;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;

    /// <summary>A virtio-serial port reads as end-of-file while no host has its end open. Before the first byte that
    /// means "not yet" (the agent may start before the host connects); after it, the host has gone, unless the stream
    /// rejoins (a restored microVM's host comes back on a new socket).</summary>
    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            var count = SerialDevice.Read(handle, buffer, path);
            if (count > 0 || buffer.IsEmpty)
            {
                _received = true;
                return count;
            }
            if (_received && !rejoin) return 0;
            Thread.Sleep(HostAbsentPause);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) => SerialDevice.Write(handle, buffer, path);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush() { }

    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) handle.Dispose();
        base.Dispose(disposing);
    }
}
