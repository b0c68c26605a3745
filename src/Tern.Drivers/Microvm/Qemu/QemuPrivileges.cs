using System.Diagnostics;
using System.Globalization;

namespace Tern.Drivers.Microvm.Qemu;

/// <summary>How QEMU gives up root once it has opened what it needs: the daemon (root) starts it, QEMU opens the kernel,
/// the drives, its sockets, the console and the pid file, then, just before the guest runs, chroots into an empty
/// directory and becomes a uid of its own (leased per VM from the sandbox driver's worker uid range, so no two VMs and no
/// sandbox worker share it). A QEMU escape is then an unprivileged user that sees no host file. QEMU 7.2 (Debian
/// bookworm) spells it `-chroot DIR -runas UID:GID`; newer QEMUs, which dropped those, `-run-with chroot=DIR,user=UID:GID`
/// (not testable here). The options QEMU offers are read once from its -help.</summary>
internal sealed class QemuPrivileges(string qemuPath)
{
    private readonly Lazy<string> _help = new(() => ReadHelp(qemuPath));

    /// <summary>The arguments that drop to <paramref name="uid"/> (its gid has the same number) inside
    /// <paramref name="emptyRoot"/>; empty when this QEMU has no way to (it then runs as the daemon's user).</summary>
    public IReadOnlyList<string> Arguments(uint uid, string emptyRoot)
    {
        var user = uid.ToString(CultureInfo.InvariantCulture) + ":" + uid.ToString(CultureInfo.InvariantCulture);
        var help = _help.Value;
        if (help.Contains("-runas ", StringComparison.Ordinal) && help.Contains("-chroot ", StringComparison.Ordinal))
            return ["-chroot", emptyRoot, "-runas", user];
        if (help.Contains("-run-with", StringComparison.Ordinal) && help.Contains("user=", StringComparison.Ordinal))
            return ["-run-with", $"chroot={emptyRoot},user={user}"];
        return [];
    }

    private static string ReadHelp(string qemuPath)
    {
        try
        {
            var psi = new ProcessStartInfo(qemuPath, "-help") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(psi);
            if (process is null) return "";
            var stdout = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (process.WaitForExit(10_000)) return stdout.GetAwaiter().GetResult();
            MicrovmDriver.KillQuietly(process);
            return "";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }
}
