namespace Tern.Drivers.Sandbox;

public sealed class SandboxOptions
{
    /// <summary>Where per-worker directories (the agent's socket, a spare's code slot) live: made 0700 (only the daemon's
    /// user can reach the code and sockets in it; the sandbox sees its own directory through a bind mount), and emptied
    /// when the driver starts (what a killed daemon left). Must not be inside a bound path; keep it short: a Unix
    /// socket path has at most 107 bytes.</summary>
    public string StateDir { get; set; } = Path.Combine(Path.GetTempPath(), "tern-workers");
    public string AgentPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "agent", "tern-agent");
    public string RuntimeAssetsDir { get; set; } = Path.Combine(AppContext.BaseDirectory, "tern-runtimes");
    /// <summary>Env TERN_BUBBLEWRAP (default /usr/bin/bwrap).</summary>
    public string BubblewrapPath { get; set; } = Environment.GetEnvironmentVariable("TERN_BUBBLEWRAP") is { Length: > 0 } path ? path : "/usr/bin/bwrap";
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";
    /// <summary>The cgroup all Tern daemons share; each daemon keeps its workers in a child of it named after its state
    /// dir (see BubblewrapDriver.CgroupParent), so one daemon's sweep never touches another's workers.</summary>
    public string CgroupParent { get; set; } = "tern";
    /// <summary>When the daemon is root, each worker runs as a host uid (and gid) of its own from this range. The default,
    /// 0x70000000 (1879048192) and up, lies above the ranges useradd gives out in /etc/subuid (SUB_UID_MAX 600100000)
    /// and systemd's container range (up to 1879048191), and below its "foreign" range and 2^31: no account or
    /// container on a usual host has these uids. A daemon not run by root cannot switch uids: its handlers run as its
    /// own user in a user namespace.</summary>
    public uint FirstWorkerUid { get; set; } = 0x7000_0000;
    public int WorkerUidCount { get; set; } = 65536;
    /// <summary>Byte-range locks in this file keep daemons on one machine from leasing the same worker uid.</summary>
    public string WorkerUidLockFile { get; set; } = "/run/tern/worker-uids.lock";
    /// <summary>Where each daemon holds the lock that shows its cgroup parent is in use (Cgroups/CgroupOwnerLock.cs).</summary>
    public string CgroupOwnersDir { get; set; } = "/run/tern/cgroup-owners";
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
