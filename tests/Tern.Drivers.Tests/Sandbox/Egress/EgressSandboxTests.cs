using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Drivers.Tests.Sandbox.Egress;

/// <summary>network none and egress against a real daemon, real sandboxes, real pasta and nftables. The "outside" a test
/// can count on is a server the test starts on one of the host's own non-loopback addresses: the filter refuses the
/// host's addresses like a private range, so it is reachable only through an allow entry.</summary>
public sealed class EgressSandboxTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    [RootFact]
    public async Task NoneFunction_CannotConnectAnywhere_NotEvenWhereAnEgressFunctionIsAllowed()
    {
        var address = HostAddress();
        using var server = new TinyHttpServer(address, "hello");
        var target = $"{address}:{server.Port}";
        await daemon.CreateOkAsync("net-none", "python", EgressProbe.Code, "main.py");
        await daemon.CreateOkAsync("net-egress-allowed", "python", EgressProbe.Code, "main.py",
            new { network = new { mode = "egress", allow = new[] { target } } });

        // The egress function reaches the server first, so a none worker started afterwards cannot be one of its workers.
        Assert.Equal("connected", await ProbeAsync("net-egress-allowed", target));
        var none = await ProbeAllAsync("net-none", target, "dns:deb.debian.org", $"{EgressResolver()}:53");
        Assert.All(none, kv => Assert.StartsWith("refused", kv.Value));
        Assert.Equal(1, server.Accepted);
    }

    [RootFact]
    public async Task Egress_ReachesAHostServer_OnlyWithAnAllowEntry()
    {
        var address = HostAddress();
        using var server = new TinyHttpServer(address, "from-the-test-server");
        var url = $"http://{address}:{server.Port}/";
        await daemon.CreateOkAsync("net-egress-plain", "python", EgressProbe.Code, "main.py", new { network = "egress" });
        await daemon.CreateOkAsync("net-egress-port", "python", EgressProbe.Code, "main.py",
            new { network = new { mode = "egress", allow = new[] { $"{address}:{server.Port}" } } });
        await daemon.CreateOkAsync("net-egress-cidr", "python", EgressProbe.Code, "main.py",
            new { network = new { mode = "egress", allow = new[] { $"{address}/32" } } });

        var refused = await ProbeAsync("net-egress-plain", url);
        Assert.StartsWith("refused", refused);
        Assert.Contains("Connection refused", refused); // the filter's reset, at once: not a timeout
        Assert.Equal(0, server.Accepted);

        Assert.Equal("http 200 from-the-test-server", await ProbeAsync("net-egress-port", url));
        Assert.Equal("http 200 from-the-test-server", await ProbeAsync("net-egress-cidr", url));
        Assert.Equal(2, server.Accepted);
    }

    [RootFact]
    public async Task Egress_CannotReachLoopback_TheDaemonsPort_TheHostsAddresses_OrTheMetadataService()
    {
        // A listener on every host address, as a daemon started with --listen 0.0.0.0 would have.
        using var anyAddress = new TinyHttpServer(IPAddress.Any, "host");
        var daemonPort = daemon.BaseAddress.Port;
        await daemon.CreateOkAsync("net-egress-fenced", "python", EgressProbe.Code, "main.py", new { network = "egress" });

        string[] targets =
        [
            $"127.0.0.1:{daemonPort}", $"127.0.0.1:{anyAddress.Port}",
            .. HostAddresses().Select(a => a.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{a}]" : a.ToString())
                .SelectMany(a => new[] { $"{a}:{daemonPort}", $"{a}:{anyAddress.Port}" }),
            $"169.254.2.1:{anyAddress.Port}", // pasta's gateway: not mapped to the host
            "169.254.169.254:80", "10.0.0.1:80", "172.16.0.1:80", "192.168.0.1:80", "100.64.0.1:80",
        ];
        var results = await ProbeAllAsync("net-egress-fenced", [.. targets.Select(t => t.Replace("[", "", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal))]);
        Assert.All(results, kv => Assert.StartsWith("refused", kv.Value));
        // Refused by the filter (a reset), not left to time out somewhere.
        Assert.All(results.Where(kv => kv.Key.StartsWith("169.254.169.254", StringComparison.Ordinal)), kv => Assert.Contains("Connection refused", kv.Value));
        Assert.Equal(0, anyAddress.Accepted);
    }

    [RootFact]
    public async Task Egress_ResolvesNames_ThroughTheHostsResolver_AndReachesTheOutside()
    {
        // deb.debian.org is what scripts/install-deps.sh needs; a machine that cannot resolve it cannot run this test.
        const string name = "deb.debian.org";
        IPAddress[] onHost;
        try
        {
            onHost = await Dns.GetHostAddressesAsync(name, AddressFamily.InterNetwork);
        }
        catch (SocketException e)
        {
            Assert.Fail($"this machine's own resolver cannot resolve {name} ({e.Message}): DNS for egress cannot be tested here");
            return;
        }
        Assert.DoesNotContain(name, await File.ReadAllTextAsync("/etc/hosts")); // so the answer must come over DNS
        await daemon.CreateOkAsync("net-egress-dns", "python", EgressProbe.Code, "main.py", new { network = "egress" });
        var results = await ProbeAllAsync("net-egress-dns", $"dns:{name}", $"http://{name}/");
        Assert.Equal("resolved " + string.Join(",", onHost.Select(a => a.ToString()).Order(StringComparer.Ordinal)), results[$"dns:{name}"]);
        Assert.StartsWith("http ", results[$"http://{name}/"]);
    }

    [RootFact]
    public async Task Egress_SandboxResolvConf_NamesOnlyPastasForwarder()
    {
        await daemon.CreateOkAsync("net-egress-resolv", "python", System.Text.Encoding.UTF8.GetBytes(
            "import json; print(json.dumps(open('/etc/resolv.conf').read()))"), "main.py", new { network = "egress" });
        var output = (string?)(await daemon.InvokeAsync("net-egress-resolv"))["output"];
        Assert.Equal("nameserver 169.254.2.1\n", output);
    }

    [Fact]
    public async Task Create_BadNetwork_Is400Problem_NamingTheFieldAndTheEntry()
    {
        async Task<JsonNode> BadAsync(object network)
        {
            using var response = await daemon.CreateAsync("net-bad", "python", EgressProbe.Code, "main.py", new { network });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        }

        var mode = await BadAsync("internet");
        Assert.Contains("unknown network mode 'internet'", (string?)mode["errors"]!["network.mode"]![0]);
        var cidr = await BadAsync(new { mode = "egress", allow = new[] { "10.0.0.0/33" } });
        Assert.Contains("'10.0.0.0/33': the prefix length must be 0-32", (string?)cidr["errors"]!["network.allow"]![0]);
        var shape = await BadAsync(42);
        Assert.Contains("network must be \"none\", \"egress\" or an object", (string?)shape["detail"]);
        using var missing = await daemon.Client.GetAsync("/v1/functions/net-bad");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private async Task<string> ProbeAsync(string function, string target) => (await ProbeAllAsync(function, target))[target];

    private async Task<Dictionary<string, string>> ProbeAllAsync(string function, params string[] targets)
    {
        var result = await daemon.InvokeAsync(function, JsonSerializer.Serialize(new { targets }));
        Assert.True((string?)result["status"] == "success", result.ToJsonString());
        return result["output"]!.AsObject().ToDictionary(kv => kv.Key, kv => (string)kv.Value!);
    }

    /// <summary>The host's resolver (what a none function must not reach either).</summary>
    private static string EgressResolver() =>
        File.ReadLines("/etc/resolv.conf").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 1 && f[0] == "nameserver" && IPAddress.TryParse(f[1], out var a) && a.AddressFamily == AddressFamily.InterNetwork)
            .Select(f => f[1]).FirstOrDefault() ?? "10.0.0.1";

    private static IPAddress HostAddress() =>
        HostAddresses().FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? throw new InvalidOperationException("this host has no non-loopback IPv4 address to start the test server on");

    private static IEnumerable<IPAddress> HostAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces().Where(i => i.OperationalStatus == OperationalStatus.Up || i.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .Where(a => !a.IsIPv6LinkLocal);
}
