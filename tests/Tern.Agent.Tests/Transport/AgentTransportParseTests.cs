using System.Net;
using Tern.Agent.Transport;

namespace Tern.Agent.Tests.Transport;

public sealed class AgentTransportParseTests
{
    [Theory]
    [InlineData("unix:/run/tern/agent.sock", typeof(UnixDialTransport))]
    [InlineData("unix-listen:/run/tern/agent.sock", typeof(UnixListenTransport))]
    [InlineData("serial:/dev/virtio-ports/tern.agent", typeof(SerialTransport))]
    [InlineData("tcp:tern-daemon.tern.svc:7070", typeof(TcpDialTransport))]
    [InlineData("tcp:[fd00::1]:7070", typeof(TcpDialTransport))]
    [InlineData("tcp-listen:0.0.0.0:7070", typeof(TcpListenTransport))]
    [InlineData("tcp-listen:[::]:7070", typeof(TcpListenTransport))]
    public void EachKind_ParsesToItsTransport_AndPrintsAsGiven(string setting, Type kind)
    {
        Assert.True(AgentTransport.TryParse(setting, out var transport, out var error), error);
        Assert.IsType(kind, transport);
        Assert.Equal(setting, transport.ToString());
    }

    [Fact]
    public void TcpAddresses_SplitAtTheLastColon()
    {
        Assert.True(AgentTransport.TryParse("tcp-listen:[::1]:0", out var listen, out _));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 0), ((TcpListenTransport)listen).EndPoint);
        Assert.True(AgentTransport.TryParse("tcp:fd00::1:7070", out var dial, out _));
        Assert.Equal(("fd00::1", 7070), (((TcpDialTransport)dial).Host, ((TcpDialTransport)dial).Port));
    }

    [Theory]
    [InlineData("", "unknown transport ''")]
    [InlineData("unix", "must be absolute")]
    [InlineData("tcp:host:0", "port from 1 to 65535")]
    [InlineData("tcp:host:-1", "port from 1 to 65535")]
    [InlineData("tcp-listen:localhost:7070", "an IP address")]
    public void BadSettings_SayWhatIsWrong(string setting, string expected)
    {
        Assert.False(AgentTransport.TryParse(setting, out _, out var error));
        Assert.StartsWith($"TERN_AGENT_TRANSPORT={setting}: ", error);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void ASocketPathTooLongForTheKernel_IsRefused()
    {
        Assert.False(AgentTransport.TryParse("unix:/" + new string('s', 107), out _, out var error));
        Assert.Contains("longer than 107 bytes", error);
    }
}
