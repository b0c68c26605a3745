namespace Tern.Agent.Tests.Transport;

/// <summary>serial: the agent opens a character device. The device is a pseudo-terminal's slave (/dev/pts/N), a real
/// terminal device like a UART: it runs the agent's whole serial path, raw mode included, which a virtio-serial port
/// (a plain character device with no line discipline) needs only part of. A FIFO pair would not do: the agent opens
/// one path for reading and writing, and a FIFO read/write loops its own bytes back.</summary>
public sealed class SerialTransportTests : AgentTransportSuite
{
    private PtyPair? _pty;

    protected override async Task<Stream> ConnectAsync(string dir, CancellationToken ct)
    {
        _pty = PtyPair.Open();
        var agent = StartAgent("serial:" + _pty.SlavePath);
        // The agent's raw mode shows through the test's own descriptor: the terminal's settings are shared.
        while (!_pty.SlaveIsRaw)
        {
            if (agent.HasExited) throw new InvalidOperationException($"the agent exited with code {agent.ExitCode}: {agent.Stderr}");
            await Task.Delay(10, ct);
        }
        _pty.ReleaseSlave(); // from now on the agent's exit hangs the terminal up, and the host's reads fail
        return new DeviceStream(_pty.Master);
    }
}
