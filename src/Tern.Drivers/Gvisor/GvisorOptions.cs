using System.ComponentModel.DataAnnotations;
using Tern.Core.Settings;

namespace Tern.Drivers.Gvisor;

/// <summary>The gVisor driver (section "gvisor"). The agent binary, the runtime assets and the cgroup root and parent
/// are the sandbox driver's settings (section "sandbox"): both drivers start the same agent on the same host.</summary>
public sealed class GvisorOptions
{
    public const string Section = "gvisor";

    /// <summary>Where scripts/install-runsc.sh (run by scripts/install-deps.sh) puts a runsc with the systrap platform,
    /// verified from Debian trixie; Debian bookworm's own /usr/bin/runsc (December 2022) has only ptrace and kvm.</summary>
    public const string InstalledRunsc = "/usr/local/lib/tern/runsc";

    public const string DebianRunsc = "/usr/bin/runsc";

    [Setting("The runsc binary (gVisor); empty: " + InstalledRunsc + " (the newer build scripts/install-deps.sh installs) if it exists, else " + DebianRunsc,
        Environment = "TERN_RUNSC")]
    public string? RunscPath { get; set; }

    /// <summary>systrap traps the guest's system calls with seccomp and serves them over shared memory (several times
    /// cheaper than ptrace's stops and wake-ups); ptrace works everywhere; kvm needs /dev/kvm. auto picks systrap when
    /// the runsc has it (checked once), else ptrace.</summary>
    [Setting("How the gVisor kernel traps the guest's system calls: auto (systrap when the runsc has it, else ptrace), systrap, ptrace, or kvm where /dev/kvm exists")]
    [AllowedValues("auto", "systrap", "ptrace", "kvm")]
    public string Platform { get; set; } = "auto";

    /// <summary>The runsc this daemon runs: the setting, else the newer installed build, else Debian's.</summary>
    public string ResolvedRunscPath() =>
        RunscPath is { Length: > 0 } path ? path : File.Exists(InstalledRunsc) ? InstalledRunsc : DebianRunsc;

    /// <summary>Made 0700 and emptied (containers and all) when the driver is first used. Keep it short: a Unix socket path
    /// has at most 107 bytes.</summary>
    [Setting("Where gVisor workers' directories (agent socket, OCI bundle, runsc state) live; empty: {daemon.dataDir}/g")]
    public string? StateDir { get; set; }

    /// <summary>gVisor's own kernel (the sentry) and file server (the gofer) run in the worker's cgroup and are charged to
    /// it: about 25 MB for a warm Python worker. Without headroom a function's memoryMb would be partly theirs.</summary>
    [Setting("Memory in MB added to a gVisor worker's limit for gVisor's own processes (sentry, gofer)")]
    [Range(0, 4096)]
    public int MemoryOverheadMb { get; set; } = 64;

    [Setting("How long a gVisor sandbox may take to start its agent")]
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
