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
    /// <summary>Parent cgroup name, so parallel daemons (tests) do not share one.</summary>
    public string CgroupParent { get; set; } = "tern";
    /// <summary>The unprivileged user handlers run as when the daemon is root (nobody).</summary>
    public int RunAsUid { get; set; } = 65534;
    public int RunAsGid { get; set; } = 65534;
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
