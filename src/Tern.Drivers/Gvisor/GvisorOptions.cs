using System.ComponentModel.DataAnnotations;
using Tern.Core.Settings;

namespace Tern.Drivers.Gvisor;

/// <summary>The gVisor driver (section "gvisor"). The agent binary, the runtime assets and the cgroup root and parent
/// are the sandbox driver's settings (section "sandbox"): both drivers start the same agent on the same host.</summary>
public sealed class GvisorOptions
{
    public const string Section = "gvisor";

    [Setting("The runsc binary (gVisor)", Environment = "TERN_RUNSC")]
    [Required]
    public string RunscPath { get; set; } = "/usr/bin/runsc";

    /// <summary>ptrace works everywhere (and is what this machine kind offers); kvm needs /dev/kvm. Newer gVisor builds
    /// also have systrap, which the Debian build does not know.</summary>
    [Setting("How the gVisor kernel traps the guest's system calls: ptrace, or kvm where /dev/kvm exists")]
    [AllowedValues("ptrace", "kvm", "systrap")]
    public string Platform { get; set; } = "ptrace";

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
