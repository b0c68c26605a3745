namespace Tern.Drivers.Sandbox.Egress;

/// <summary>The host programs egress needs, and what is missing for it: one sentence with the command that fixes it,
/// or null. Asked by readiness (a degraded check: functions without network are unaffected) and before every egress
/// worker start (a 503 for that call, not a retry loop).</summary>
internal sealed class EgressTools(SandboxOptions options, bool asRoot)
{
    /// <summary>Where iproute2 keeps named network namespaces.</summary>
    public const string NetnsDir = "/run/netns";

    public string PastaPath => options.PastaPath;
    public string NftPath => options.NftPath;
    public string IpPath => options.IpPath;
    public string NsenterPath => options.NsenterPath;

    public string? Problem()
    {
        if (!asRoot)
            return "network egress needs the daemon to run as root (it creates each egress worker's network namespace and filter); functions with network 'none' are unaffected";
        if (Missing(PastaPath) is { } pasta)
            return $"network egress needs pasta, {pasta}: install it with `apt-get install -y passt` (or scripts/install-deps.sh)";
        if (Missing(NftPath) is { } nft)
            return $"network egress needs nft, {nft}: install it with `apt-get install -y nftables` (or scripts/install-deps.sh)";
        if (Missing(IpPath) is { } ip)
            return $"network egress needs ip, {ip}: install it with `apt-get install -y iproute2` (or scripts/install-deps.sh)";
        if (Missing(NsenterPath) is { } nsenter)
            return $"network egress needs nsenter, {nsenter}: install it with `apt-get install -y util-linux`";
        if (!File.Exists("/dev/net/tun"))
            return "network egress needs the TUN device /dev/net/tun, which this kernel or container does not offer";
        return null;
    }

    private static string? Missing(string path) =>
        !File.Exists(path) ? $"which is not installed at {path}"
        : Posix.access(path, Posix.X_OK) != 0 ? $"which cannot be executed at {path}"
        : null;
}
