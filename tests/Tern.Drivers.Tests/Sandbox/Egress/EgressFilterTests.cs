using System.Net;
using Tern.Core.Functions;
using Tern.Drivers.Sandbox.Egress;

namespace Tern.Drivers.Tests.Sandbox.Egress;

/// <summary>The nftables script itself: what comes before what. (That nft accepts it and the kernel enforces it is shown
/// by EgressSandboxTests on real sandboxes.)</summary>
public sealed class EgressFilterTests
{
    private static NetworkAllowEntry Entry(string text) =>
        NetworkAllowEntry.TryParse(text, out var entry, out var error) ? entry : throw new ArgumentException(error);

    [Fact]
    public void Script_AcceptsLoopbackDnsAndAllowEntries_BeforeAnyRefusal()
    {
        var script = EgressFilter.Script([Entry("192.168.1.5:8080"), Entry("10.0.0.0/8"), Entry("[fd00::1]:443")],
            [IPAddress.Parse("192.0.2.2"), IPAddress.Loopback, IPAddress.Parse("fd00::2")], IPAddress.Parse("169.254.2.1"));
        var lines = script.Split('\n', StringSplitOptions.TrimEntries);
        int Line(string text) => Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));

        var firstRefusal = Line("reject");
        Assert.True(Line("oif \"lo\" accept") is >= 0 and var lo && lo < firstRefusal);
        Assert.True(Line("ip daddr 169.254.2.1 meta l4proto { tcp, udp } th dport 53 accept") is >= 0 and var dns && dns < firstRefusal);
        Assert.True(Line("ip daddr 192.168.1.5/32 meta l4proto { tcp, udp } th dport 8080 accept") is >= 0 and var port && port < firstRefusal);
        Assert.True(Line("ip daddr 10.0.0.0/8 accept") is >= 0 and var range && range < firstRefusal);
        Assert.True(Line("ip6 daddr fd00::1/128 meta l4proto { tcp, udp } th dport 443 accept") is >= 0 and var v6 && v6 < firstRefusal);
        Assert.Contains("policy accept;", script);
    }

    [Fact]
    public void Script_RefusesEveryListedRange_AndEveryHostAddress()
    {
        var script = EgressFilter.Script([], [IPAddress.Parse("192.0.2.2"), IPAddress.Parse("fe80::1%2"), IPAddress.Parse("fd00::2")], IPAddress.Parse("169.254.2.1"));
        foreach (var range in EgressFilter.RefusedIPv4.Concat(EgressFilter.RefusedIPv6)) Assert.Contains(range, script);
        Assert.Contains("ip daddr { 192.0.2.2 } meta l4proto tcp reject with tcp reset", script);
        Assert.Contains("ip6 daddr { fe80::1, fd00::2 } meta l4proto tcp reject with tcp reset", script); // scope ids dropped
        Assert.Contains("169.254.0.0/16", script); // the metadata service and pasta's gateway (but for DNS)
    }
}
