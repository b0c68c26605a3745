using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;

namespace Tern.Agent.Transport;

/// <summary>How the agent reaches the host, chosen once at start from TERN_AGENT_TRANSPORT, a "kind:address" string
/// (docs/agent-protocol.md). Every kind yields one duplex byte stream carrying the same frames; which kind fits depends
/// on what isolates the worker: a sandbox shares a Unix socket with the host, a microVM has a virtio-serial port, a
/// Kubernetes pod has the network.</summary>
internal abstract class AgentTransport
{
    public const string Variable = "TERN_AGENT_TRANSPORT";

    /// <summary>The sandbox driver names only the socket to dial; with no TERN_AGENT_TRANSPORT that stays the default.</summary>
    public const string SocketVariable = "TERN_AGENT_SOCKET";
    public const string DefaultSocket = "/run/tern/agent.sock";

    /// <summary>The longest path a Unix socket address holds (sun_path is 108 bytes, NUL included).</summary>
    private const int MaxSocketPathBytes = 107;

    /// <summary>Blocks until the stream to the host is open. Throws SocketException or IOException when it cannot be.</summary>
    public abstract Stream Open();

    /// <summary>The setting in its "kind:address" form, for messages.</summary>
    public abstract override string ToString();

    public static bool TryFromEnvironment([NotNullWhen(true)] out AgentTransport? transport, [NotNullWhen(false)] out string? error)
    {
        var setting = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrEmpty(setting)) return TryParse(setting, out transport, out error);
        transport = new UnixDialTransport(Environment.GetEnvironmentVariable(SocketVariable) ?? DefaultSocket);
        error = null;
        return true;
    }

    /// <summary>Parses "unix:PATH", "unix-listen:PATH", "serial:PATH", "tcp:HOST:PORT" or "tcp-listen:IP:PORT".
    /// The error is one line naming the setting and what is wrong with it.</summary>
    public static bool TryParse(string setting, [NotNullWhen(true)] out AgentTransport? transport, [NotNullWhen(false)] out string? error)
    {
        transport = null;
        var colon = setting.IndexOf(':');
        var kind = colon < 0 ? setting : setting[..colon];
        var address = colon < 0 ? "" : setting[(colon + 1)..];
        var problem = kind switch
        {
            "unix" => CheckSocketPath(address, p => new UnixDialTransport(p), out transport),
            "unix-listen" => CheckSocketPath(address, p => new UnixListenTransport(p), out transport),
            "serial" => CheckDevicePath(address, out transport),
            "tcp" => CheckDial(address, out transport),
            "tcp-listen" => CheckListen(address, out transport),
            _ => $"unknown transport '{kind}' (expected unix:, unix-listen:, serial:, tcp: or tcp-listen:)",
        };
        error = problem is null ? null : Printable($"{Variable}={setting}: {problem}");
        return problem is null;
    }

    private static string? CheckSocketPath(string path, Func<string, AgentTransport> create, out AgentTransport? transport)
    {
        transport = null;
        if (!path.StartsWith('/')) return "the socket path must be absolute";
        if (Encoding.UTF8.GetByteCount(path) > MaxSocketPathBytes) return $"the socket path is longer than {MaxSocketPathBytes} bytes";
        transport = create(path);
        return null;
    }

    private static string? CheckDevicePath(string path, out AgentTransport? transport)
    {
        transport = path.StartsWith('/') ? new SerialTransport(path) : null;
        return transport is null ? "the device path must be absolute" : null;
    }

    private static string? CheckDial(string address, out AgentTransport? transport)
    {
        transport = null;
        if (!TrySplitHostPort(address, out var host, out var port) || port == 0) return "expected tcp:HOST:PORT with a port from 1 to 65535";
        transport = new TcpDialTransport(host, port);
        return null;
    }

    private static string? CheckListen(string address, out AgentTransport? transport)
    {
        transport = null;
        if (!TrySplitHostPort(address, out var host, out var port) || !IPAddress.TryParse(host, out var ip))
            return "expected tcp-listen:IP:PORT (an IP address such as 0.0.0.0 or [::], and a port from 0 to 65535)";
        transport = new TcpListenTransport(new IPEndPoint(ip, port));
        return null;
    }

    /// <summary>"host:port" or "[ipv6]:port"; the port is the part after the last colon.</summary>
    private static bool TrySplitHostPort(string address, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = address.LastIndexOf(':');
        if (colon <= 0) return false;
        host = address[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        return host.Length > 0 && int.TryParse(address.AsSpan(colon + 1), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out port) && port <= 65535;
    }

    /// <summary>The error must stay one line whatever the setting holds.</summary>
    private static string Printable(string text)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
            if (char.IsControl(chars[i])) chars[i] = '?';
        return new string(chars);
    }
}
