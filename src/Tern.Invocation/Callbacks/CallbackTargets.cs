using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Tern.Invocation.Callbacks;

/// <summary>Where X-Callback-Url may point. A callback carries an execution record to a URL the caller chose, from
/// inside the operator's network: without a check it is a server-side request forgery (the cloud metadata service at
/// 169.254.169.254, the daemon's own port, internal services). So every address the host name resolves to must be
/// public, unless CallbackOptions.Allow lists it (a host name, an address, or a CIDR range). Checked when the call is
/// accepted (a 400) and again when connecting, against the addresses actually connected to (DNS may change).</summary>
public sealed class CallbackTargets(IOptions<CallbackOptions> options)
{
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(3);

    private readonly (string[] Hosts, IPNetwork[] Networks) _allow = Parse(options.Value.Allow);

    /// <summary>Null when <paramref name="url"/> may be called back; otherwise why not (for a 400).</summary>
    public async Task<string?> CheckAsync(string url, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            return "it must be an absolute http(s) URL";
        if (!string.IsNullOrEmpty(uri.UserInfo)) return "it must not carry credentials";
        IPAddress[] addresses;
        try
        {
            addresses = await ResolveAsync(uri, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return $"its host '{uri.Host}' does not resolve";
        }
        catch (ArgumentException)
        {
            // The resolver refuses a name it could never look up (over 255 characters) with an ArgumentOutOfRangeException:
            // the caller's bad input, which was a 500.
            return "its host is not a valid DNS name (at most 255 characters)";
        }
        if (addresses.Length == 0) return $"its host '{uri.Host}' does not resolve";
        foreach (var address in addresses)
            if (Refusal(uri.Host, address) is { } why)
                return $"'{uri.Host}' resolves to {address}, {why}; a callback may only reach public addresses unless the operator " +
                       $"allows the target with {CallbackOptions.AllowVariable}";
        return null;
    }

    /// <summary>The addresses of <paramref name="uri"/>'s host this daemon may connect to (for the HTTP handler).</summary>
    public async Task<IPAddress[]> AllowedAddressesAsync(string host, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal]
            : await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
        return [.. addresses.Where(a => Refusal(host, a) is null)];
    }

    private static async Task<IPAddress[]> ResolveAsync(Uri uri, CancellationToken ct)
    {
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var literal)) return [literal];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ResolveTimeout);
        return await Dns.GetHostAddressesAsync(uri.DnsSafeHost, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>Why <paramref name="address"/> is refused, or null if it may be reached.</summary>
    private string? Refusal(string host, IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (_allow.Hosts.Contains(host, StringComparer.OrdinalIgnoreCase) || _allow.Networks.Any(n => n.Contains(address))) return null;
        return ForbiddenRanges.FirstOrDefault(r => r.Network.Contains(address)).Why;
    }

    private static readonly (IPNetwork Network, string Why)[] ForbiddenRanges =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "an unspecified address"),
        (IPNetwork.Parse("10.0.0.0/8"), "a private address"),
        (IPNetwork.Parse("100.64.0.0/10"), "a carrier-grade NAT address"),
        (IPNetwork.Parse("127.0.0.0/8"), "a loopback address"),
        (IPNetwork.Parse("169.254.0.0/16"), "a link-local address (the cloud metadata service lives here)"),
        (IPNetwork.Parse("172.16.0.0/12"), "a private address"),
        (IPNetwork.Parse("192.0.0.0/24"), "a reserved address"),
        (IPNetwork.Parse("192.0.2.0/24"), "a documentation address"),
        (IPNetwork.Parse("192.168.0.0/16"), "a private address"),
        (IPNetwork.Parse("198.18.0.0/15"), "a benchmarking address"),
        (IPNetwork.Parse("198.51.100.0/24"), "a documentation address"),
        (IPNetwork.Parse("203.0.113.0/24"), "a documentation address"),
        (IPNetwork.Parse("224.0.0.0/4"), "a multicast address"),
        (IPNetwork.Parse("240.0.0.0/4"), "a reserved address"),
        (IPNetwork.Parse("::/128"), "an unspecified address"),
        (IPNetwork.Parse("::1/128"), "a loopback address"),
        (IPNetwork.Parse("64:ff9b::/96"), "a NAT64 address"),
        (IPNetwork.Parse("fc00::/7"), "a unique local address (the IPv6 metadata service lives here)"),
        (IPNetwork.Parse("fe80::/10"), "a link-local address"),
        (IPNetwork.Parse("ff00::/8"), "a multicast address"),
    ];

    private static (string[] Hosts, IPNetwork[] Networks) Parse(IEnumerable<string> allow)
    {
        var hosts = new List<string>();
        var networks = new List<IPNetwork>();
        foreach (var entry in allow.Select(a => a.Trim()).Where(a => a.Length > 0))
        {
            if (IPNetwork.TryParse(entry, out var network)) networks.Add(network);
            else if (IPAddress.TryParse(entry, out var address)) networks.Add(new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
            else hosts.Add(entry);
        }
        return ([.. hosts], [.. networks]);
    }
}
