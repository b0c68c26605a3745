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

    [Setting("pasta (Debian package passt), the user-mode network stack that gives network-egress workers their way out")]
    [Required]
    public string PastaPath { get; set; } = "/usr/bin/pasta";

    [Setting("nft (package nftables), which loads each egress worker's filter into its network namespace")]
    [Required]
    public string NftPath { get; set; } = "/usr/sbin/nft";

    [Setting("ip (package iproute2), which creates and deletes egress workers' network namespaces")]
    [Required]
    public string IpPath { get; set; } = "/usr/sbin/ip";

    [Setting("nsenter (package util-linux), which starts an egress worker's sandbox inside its network namespace")]
    [Required]
    public string NsenterPath { get; set; } = "/usr/bin/nsenter";

    [Setting("Where the cgroup file systems are mounted")]
    [Required]
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";

    /// <summary>Each daemon keeps its workers in a child of this named after its state dir (see
    /// BubblewrapDriver.CgroupParent), so one daemon's sweep never touches another's workers.</summary>
    [Setting("The cgroup all Tern daemons share; each daemon's workers go in a child of it")]
    [Required]
    public string CgroupParent { get; set; } = "tern";

    /// <summary>The default, 0x70000000 (1879048192) and up, lies above the ranges useradd gives out in /etc/subuid
    /// (SUB_UID_MAX 600100000) and systemd's container range (up to 1879048191), and below its "foreign" range and 2^31:
    /// no account or container on a usual host has these uids. A daemon not run by root cannot switch uids: its
    /// handlers run as its own user in a user namespace.</summary>
    [Setting("When the daemon is root, each worker runs as a host uid (and gid) of its own from this one up")]
    public uint FirstWorkerUid { get; set; } = 0x7000_0000;

    [Setting("How many worker uids the range holds (at most this many workers at once per machine)")]
    [Range(1, 1 << 24)]
    public int WorkerUidCount { get; set; } = 65536;

    [Setting("Byte-range locks in this file keep daemons on one machine from leasing the same worker uid")]
    [Required]
    public string WorkerUidLockFile { get; set; } = "/run/tern/worker-uids.lock";

    [Setting("Where each daemon holds the lock that shows its cgroup parent is in use")]
    [Required]
    public string CgroupOwnersDir { get; set; } = "/run/tern/cgroup-owners";

    [Setting("How long a sandbox may take to start its agent")]
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
