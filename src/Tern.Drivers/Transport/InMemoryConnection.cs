using System.IO.Pipelines;

namespace Tern.Drivers.Transport;

/// <summary>One end of an in-memory byte connection (two pipes, one per direction): what one end writes, the other
/// reads. Disposing an end closes both its directions, so the other end reads end-of-stream, as with a closed socket.
/// What a worker whose agent side lives in the daemon (a kubernetes Job worker, the tests' fake worker) hands the host.</summary>
public sealed class InMemoryConnection : Stream
{
    private readonly Stream _reading;
    private readonly Stream _writing;

    private InMemoryConnection(PipeReader reader, PipeWriter writer)
    {
        _reading = reader.AsStream();
        _writing = writer.AsStream();
    }

    /// <summary>Two connected ends: (host, agent).</summary>
    public static (InMemoryConnection Host, InMemoryConnection Agent) CreatePair()
    {
        var toAgent = new Pipe();
        var toHost = new Pipe();
        return (new InMemoryConnection(toHost.Reader, toAgent.Writer), new InMemoryConnection(toAgent.Reader, toHost.Writer));
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => _reading.Read(buffer, offset, count);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => _reading.ReadAsync(buffer, ct);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _reading.ReadAsync(buffer, offset, count, ct);

    public override void Write(byte[] buffer, int offset, int count) => _writing.Write(buffer, offset, count);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => _writing.WriteAsync(buffer, ct);
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _writing.WriteAsync(buffer, offset, count, ct);
    public override void Flush() => _writing.Flush();
    public override Task FlushAsync(CancellationToken ct) => _writing.FlushAsync(ct);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _writing.Dispose(); // completes our writer: the other end reads end-of-stream
            _reading.Dispose();
        }
        base.Dispose(disposing);
    }
}
