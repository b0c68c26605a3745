using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Tern.Core.Functions;

/// <summary>One <c>network.allow</c> entry: an address range (<c>10.0.0.0/8</c>, <c>10.1.2.3</c>, <c>fd00::/8</c>) and
/// optionally one port (<c>192.168.1.5:8080</c>, <c>10.0.0.0/24:443</c>, <c>[fd00::1]:443</c>), TCP and UDP alike.
/// Host names are refused: a name resolves differently over time, a firewall rule does not follow it.</summary>
public sealed record NetworkAllowEntry(IPNetwork Network, int? Port)
{
    public bool IsIPv4 => Network.BaseAddress.AddressFamily == AddressFamily.InterNetwork;

    public static bool TryParse(string text, out NetworkAllowEntry entry, out string error)
    {
        entry = null!;
        error = "";
        var s = text.Trim();
        int? port = null;
        string range;
        if (s.StartsWith('['))
        {
            // [v6] or [v6/prefix] with an optional :port after the bracket
            var close = s.IndexOf(']', StringComparison.Ordinal);
            if (close < 0) return Fail(out error, text, "a '[' without its ']'");
            range = s[1..close];
            var rest = s[(close + 1)..];
            if (rest.Length > 0)
            {
                if (!rest.StartsWith(':') || !TryPort(rest[1..], out var p)) return Fail(out error, text, "the port after ']' must be :1-65535");
                port = p;
            }
        }
        else if (s.Count(c => c == ':') == 1)
        {
            var colon = s.IndexOf(':', StringComparison.Ordinal);
            if (!TryPort(s[(colon + 1)..], out var p)) return Fail(out error, text, "the port must be 1-65535");
            port = p;
            range = s[..colon];
        }
        else range = s; // IPv4 without a port, or a bare IPv6 address or range (write [v6]:port for a port)

        IPNetwork network;
        if (range.Contains('/'))
        {
            var slash = range.IndexOf('/', StringComparison.Ordinal);
            if (!IPAddress.TryParse(range[..slash], out var baseAddress) || (baseAddress.AddressFamily == AddressFamily.InterNetwork && range[..slash].Count(c => c == '.') != 3))
                return Fail(out error, text, "not a CIDR range: the part before '/' is not an IP address (host names are not accepted)");
            var max = baseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            if (!int.TryParse(range[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix > max)
                return Fail(out error, text, $"the prefix length must be 0-{max}");
            // .NET 10 masks the host bits away silently; a range written so is more likely a typo than meant.
            if (!IPNetwork.TryParse(range, out network) || !network.BaseAddress.Equals(baseAddress))
                return Fail(out error, text, $"the address has bits set beyond the /{prefix} prefix; did you mean {new IPNetwork(Masked(baseAddress, prefix), prefix)}?");
        }
        else if (IPAddress.TryParse(range, out var address) && (address.AddressFamily == AddressFamily.InterNetworkV6 || range.Count(c => c == '.') == 3))
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        else
            return Fail(out error, text, "not an IP address or CIDR range (host names are not accepted)");
        if (network.BaseAddress.IsIPv4MappedToIPv6) return Fail(out error, text, "write an IPv4-mapped address as plain IPv4");
        entry = new NetworkAllowEntry(network, port);
        return true;
    }

    public override string ToString() =>
        Port is int p
            ? (IsIPv4 ? $"{Network}:{p}" : $"[{Network}]:{p}")
            : Network.ToString();

    private static IPAddress Masked(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(bytes);
    }

    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;

    private static bool Fail(out string error, string text, string why)
    {
        error = $"'{text}': {why}.";
        return false;
    }
}
