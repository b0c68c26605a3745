namespace Tern.Agent.Transport;

/// <summary>serial:PATH — the agent opens a character device read/write and uses it as the stream: a microVM's
/// virtio-serial port (/dev/virtio-ports/NAME; the host end is the Unix socket the hypervisor exposes), or any device
/// that behaves like a serial port. A terminal device (a UART, a pty) is put in raw mode first, since its line
/// discipline would echo, translate and swallow bytes of binary frames; a virtio-serial port has none.</summary>
internal sealed class SerialTransport(string path) : AgentTransport
{
    /// <summary>Set to 1 by the microVM driver's guest init: the host may leave and come back (snapshot restore).</summary>
    public const string RejoinVariable = "TERN_AGENT_SERIAL_REJOIN";

    public string Path { get; } = path;

    public override Stream Open()
    {
        var handle = SerialDevice.OpenReadWrite(Path);
        try
        {
            // Reading a seekable file (a regular file given by mistake) would never block for the host: refuse it.
            if (SerialDevice.IsSeekable(handle)) throw new IOException($"{Path} is a seekable file, not a serial port");
            if (SerialDevice.IsTerminal(handle)) SerialDevice.MakeRaw(handle, Path);
            return new SerialPortStream(handle, Path, Environment.GetEnvironmentVariable(RejoinVariable) == "1");
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public override string ToString() => "serial:" + Path;
}
