using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using Tern.Core.Functions;

namespace Tern.Drivers.Sandbox.Egress;

/// <summary>One egress worker's network: a named network namespace (created by root, so it belongs to the host's user
/// namespace), the nftables filter inside it, and a pasta process that connects it to the outside through the host's
/// sockets (a user-mode TCP/IP stack: no veth, no routing or forwarding on the host, no host firewall change).
/// The sandbox then runs in this namespace instead of an empty one. Disposing kills pasta and deletes the namespace.</summary>
internal sealed class EgressNetwork : IAsyncDisposable
{
    /// <summary>The sandbox's own address, pasta's gateway and DNS forwarder. Link-local, so it never shadows a real
    /// destination; the filter refuses 169.254.0.0/16 except port 53 of the forwarder.</summary>
    public static readonly IPAddress SandboxAddress = IPAddress.Parse("169.254.2.2");
    public static readonly IPAddress Gateway = IPAddress.Parse("169.254.2.1");

    private readonly EgressTools _tools;
    private int _pastaPid;

    private EgressNetwork(EgressTools tools, string name)
    {
        _tools = tools;
        Name = name;
    }

    public string Name { get; }

    /// <summary>What nsenter --net= takes.</summary>
    public string NamespacePath => Path.Combine(EgressTools.NetnsDir, Name);

    /// <summary>Namespace, filter, then pasta: the filter is in place before the namespace has any route out.</summary>
    /// <param name="stateDir">The driver's state dir (0700), where pasta writes its pid for a moment.</param>
    public static async Task<EgressNetwork> CreateAsync(EgressTools tools, string name, FunctionNetwork network, string stateDir, CancellationToken ct)
    {
        var allow = network.Allow.Select(text => NetworkAllowEntry.TryParse(text, out var entry, out var error)
            ? entry : throw new WorkerStartException($"network.allow {error}")).ToList();
        var egress = new EgressNetwork(tools, name);
        try
        {
            await RunAsync(tools.IpPath, ["netns", "add", name], null, ct).ConfigureAwait(false);
            var rules = EgressFilter.Script(allow, HostAddresses(), Gateway);
            await RunAsync(tools.NsenterPath, ["--net=" + egress.NamespacePath, "--", tools.NftPath, "-f", "-"], rules, ct).ConfigureAwait(false);
            var pidFile = Path.Combine(stateDir, name + ".pasta");
            try
            {
                // .NET ignores SIGPIPE and children inherit that; this pasta dies at start when it finds SIGPIPE ignored
                // ("Couldn't install signal handlers": it treats signal()'s previous SIG_IGN as a failure).
                await RunAsync("/usr/bin/env", ["--default-signal=PIPE", tools.PastaPath, .. PastaArguments(name, pidFile)], null, ct).ConfigureAwait(false);
                egress._pastaPid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
            }
            finally
            {
                File.Delete(pidFile);
            }
            return egress;
        }
        catch
        {
            await egress.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>pasta joins the namespace, creates its tap device there and configures it (address, route), then
    /// daemonizes; its parent exits 0 once that is done. It runs as root (it cannot join a namespace of the host's user
    /// namespace otherwise) inside its own sandbox: seccomp, fresh mount/pid/ipc/uts namespaces, NO_NEW_PRIVS.</summary>
    private static List<string> PastaArguments(string name, string pidFile) =>
    [
        "--netns", name, "--config-net", "--quiet",
        "--runas", "0:0",
        "--ipv4-only",
        // No port forwarding in either direction, and the gateway is not the host's loopback.
        "-t", "none", "-u", "none", "-T", "none", "-U", "none", "--no-map-gw",
        "-a", SandboxAddress.ToString(), "-n", "24", "-g", Gateway.ToString(),
        "--dns-forward", Gateway.ToString(),
        "--no-dhcp", "--no-ndp", "--no-dhcpv6", "--no-ra",
        "-P", pidFile,
    ];

    /// <summary>The host's own addresses (every interface, up or down): refused unless allowed, whatever the port.</summary>
    private static IEnumerable<IPAddress> HostAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address);

    private static async Task RunAsync(string file, IEnumerable<string> args, string? stdin, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = stdin is not null, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi) ?? throw new WorkerStartException($"could not start {file}");
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        // pasta's daemon child may keep the pipes: wait for the parent, then give the output a moment, not forever.
        var stderr = process.StandardError.ReadToEndAsync(ct);
        _ = process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        if (process.ExitCode == 0) return;
        var text = await stderr.WaitAsync(TimeSpan.FromSeconds(1), ct).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : "", TaskScheduler.Default).ConfigureAwait(false);
        throw new WorkerStartException($"egress network setup failed: {Path.GetFileName(file)} {string.Join(' ', psi.ArgumentList)} exited with {process.ExitCode}: {Clean(text)}".TrimEnd(' ', ':'));
    }

    /// <summary>pasta also tells stderr that syslog is unreachable, once per line it logs.</summary>
    private static string Clean(string stderr) =>
        string.Join("; ", stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("Failed to send", StringComparison.Ordinal)));

    public async ValueTask DisposeAsync()
    {
        if (_pastaPid > 0 && IsPasta(_pastaPid)) _ = Posix.kill(_pastaPid, Posix.SIGKILL);
        _pastaPid = 0;
        await DeleteNamespaceAsync(_tools, Name).ConfigureAwait(false);
    }

    /// <summary>Deleting the namespace's file also makes a pasta still attached to it exit (it watches the file).</summary>
    internal static async Task DeleteNamespaceAsync(EgressTools tools, string name)
    {
        if (!File.Exists(Path.Combine(EgressTools.NetnsDir, name))) return;
        try
        {
            await RunAsync(tools.IpPath, ["netns", "delete", name], null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WorkerStartException or System.ComponentModel.Win32Exception) { }
    }

    /// <summary>Only a process still running pasta (the pid may have been reused since pasta exited). pasta re-executes
    /// its CPU-specific build, so its name may be "passt.avx2" or "pasta.avx2".</summary>
    private static bool IsPasta(int pid)
    {
        try
        {
            var comm = File.ReadAllText($"/proc/{pid}/comm").Trim();
            return comm.StartsWith("pasta", StringComparison.Ordinal) || comm.StartsWith("passt", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>pasta processes a killed daemon left, found by the namespace names on their command lines. (pasta also
    /// exits when its namespace's file is deleted, but that is not relied on.)</summary>
    internal static void KillLeftoverPasta(string namePrefix)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || !IsPasta(pid)) continue;
            try
            {
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                var at = Array.IndexOf(args, "--netns");
                if (at >= 0 && at + 1 < args.Length && args[at + 1].StartsWith(namePrefix, StringComparison.Ordinal))
                    _ = Posix.kill(pid, Posix.SIGKILL);
            }
            catch (IOException) { } // it exited meanwhile
        }
    }
}
