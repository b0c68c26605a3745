using System.Net;
using System.Net.Sockets;
using System.Text;
using Tern.Core.Functions;

namespace Tern.Drivers.Sandbox.Egress;

/// <summary>The nftables rules loaded into an egress worker's network namespace before any of its traffic can flow.
/// The namespace belongs to the host's root user namespace, and nothing in the sandbox holds CAP_NET_ADMIN there
/// (bubblewrap drops it from the bounding set), so the handler can neither see nor change them.
/// <para>Order: the sandbox's own loopback, then DNS to pasta's forwarder, then the function's allow entries, then
/// refusals (the ranges below and every address of the host, which covers the daemon's port on any of them), then
/// everything else goes out through pasta.</para></summary>
internal static class EgressFilter
{
    public const string Table = "tern_egress";

    /// <summary>Loopback, unspecified, private (RFC 1918), CGNAT, link-local (169.254.169.254, the cloud metadata
    /// service, included), multicast, reserved and broadcast.</summary>
    public static readonly string[] RefusedIPv4 =
    [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
        "224.0.0.0/4", "240.0.0.0/4",
    ];

    /// <summary>Unspecified and loopback, IPv4-mapped (would reach the IPv4 ranges), NAT64, unique local (fc00::/7; the
    /// IPv6 metadata service fd00:ec2::254 is in it), link-local and multicast.</summary>
    public static readonly string[] RefusedIPv6 = ["::/127", "::ffff:0:0/96", "64:ff9b::/96", "fc00::/7", "fe80::/10", "ff00::/8"];

    /// <param name="allow">The function's allow entries, already validated.</param>
    /// <param name="hostAddresses">Every address of the host's interfaces at the worker's start.</param>
    /// <param name="dnsForwarder">pasta's DNS address inside the namespace (the only exception for port 53).</param>
    public static string Script(IEnumerable<NetworkAllowEntry> allow, IEnumerable<IPAddress> hostAddresses, IPAddress dnsForwarder)
    {
        var s = new StringBuilder();
        s.Append("table inet ").Append(Table).AppendLine(" {");
        s.AppendLine("  chain output {");
        s.AppendLine("    type filter hook output priority filter; policy accept;");
        s.AppendLine("    oif \"lo\" accept");
        s.Append("    ").Append(Family(dnsForwarder)).Append(" daddr ").Append(dnsForwarder).AppendLine(" meta l4proto { tcp, udp } th dport 53 accept");
        foreach (var entry in allow)
        {
            s.Append("    ").Append(entry.IsIPv4 ? "ip" : "ip6").Append(" daddr ").Append(entry.Network);
            if (entry.Port is int port) s.Append(" meta l4proto { tcp, udp } th dport ").Append(port);
            s.AppendLine(" accept");
        }
        var host = hostAddresses.Where(a => !a.IsIPv4MappedToIPv6).Distinct().ToList();
        Refuse(s, "ip", RefusedIPv4);
        Refuse(s, "ip6", RefusedIPv6);
        Refuse(s, "ip", host.Where(a => a.AddressFamily == AddressFamily.InterNetwork).Select(a => a.ToString()));
        Refuse(s, "ip6", host.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6).Select(a => WithoutScope(a)));
        s.AppendLine("  }");
        s.AppendLine("}");
        return s.ToString();
    }

    /// <summary>TCP gets a reset (the caller sees "connection refused" at once); anything else an ICMP
    /// "administratively prohibited".</summary>
    private static void Refuse(StringBuilder s, string family, IEnumerable<string> targets)
    {
        var list = string.Join(", ", targets);
        if (list.Length == 0) return;
        s.Append("    ").Append(family).Append(" daddr { ").Append(list).AppendLine(" } meta l4proto tcp reject with tcp reset");
        s.Append("    ").Append(family).Append(" daddr { ").Append(list).AppendLine(" } reject with icmpx type admin-prohibited");
    }

    private static string Family(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork ? "ip" : "ip6";

    private static string WithoutScope(IPAddress address) =>
        address.ScopeId == 0 ? address.ToString() : new IPAddress(address.GetAddressBytes()).ToString();
}
