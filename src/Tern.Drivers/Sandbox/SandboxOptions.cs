using System.ComponentModel.DataAnnotations;
using Tern.Core.Settings;

namespace Tern.Drivers.Sandbox;

/// <summary>The bubblewrap sandbox driver (section "sandbox").</summary>
public sealed class SandboxOptions
{
    public const string Section = "sandbox";

    /// <summary>Made 0700 (only the daemon's user can reach the code and sockets in it; the sandbox sees its own
    /// directory through a bind mount), and emptied when the driver starts (what a killed daemon left). Must not be inside
    /// a bound path; keep it short: a Unix socket path has at most 107 bytes.</summary>
    [Setting("Where per-worker directories (agent socket, a spare's code slot) live; empty: {daemon.dataDir}/w")]
    public string? StateDir { get; set; }

    [Setting("The tern-agent binary started inside every sandbox")]
    [Required]
    public string AgentPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "agent", "tern-agent");

    [Setting("Runtime assets mounted read-only at /opt/tern/runtimes")]
    [Required]
    public string RuntimeAssetsDir { get; set; } = Path.Combine(AppContext.BaseDirectory, "tern-runtimes");

    [Setting("The bubblewrap binary", Environment = "TERN_BUBBLEWRAP")]
    [Required]
    public string BubblewrapPath { get; set; } = "/usr/bin/bwrap";

    [Setting("Where the cgroup file systems are mounted")]
    [Required]
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";

    [Setting("Parent cgroup of every worker's cgroup")]
    [Required]
    public string CgroupParent { get; set; } = "tern";

    [Setting("The unprivileged user id handlers run as when the daemon is root (65534: nobody)")]
    [Range(1, int.MaxValue)]
    public int RunAsUid { get; set; } = 65534;

    [Setting("The group id handlers run as when the daemon is root")]
    [Range(1, int.MaxValue)]
    public int RunAsGid { get; set; } = 65534;

    [Setting("How long a sandbox may take to start its agent")]
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
