namespace Tern.Drivers.Sandbox;

public sealed class SandboxOptions
{
    /// <summary>Where per-worker directories (with the agent's socket) live. Must not be inside a bound path.</summary>
    public string StateDir { get; set; } = Path.Combine(Path.GetTempPath(), "tern-workers");
    public string AgentPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "agent", "tern-agent");
    public string RuntimeAssetsDir { get; set; } = Path.Combine(AppContext.BaseDirectory, "tern-runtimes");
    public string BubblewrapPath { get; set; } = "/usr/bin/bwrap";
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";
    /// <summary>Parent cgroup name, so parallel daemons (tests) do not share one.</summary>
    public string CgroupParent { get; set; } = "tern";
    /// <summary>The unprivileged user handlers run as when the daemon is root (nobody).</summary>
    public int RunAsUid { get; set; } = 65534;
    public int RunAsGid { get; set; } = 65534;
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
