using System.Text.Json;
using Tern.Runtimes;

namespace Tern.Drivers.Gvisor;

/// <summary>The OCI runtime spec (config.json) of one gVisor worker, mirroring the bubblewrap sandbox: a shared read-only
/// root holding only mount points, /usr and /etc read-only from the host, the code read-only at /code, a private /tmp,
/// the agent and the runtime assets under /opt/tern, and the worker's directory (holding the socket the host listens on)
/// read-only at /run/tern. The agent starts as the guest's root with only the capabilities it needs to drop to
/// <see cref="GuestUid"/> and reap strays; guest processes are limited by RLIMIT_NPROC, which gVisor enforces itself
/// (the host's pids limit counts gVisor's own threads too, and reaching it panics the sentry).</summary>
internal static class OciBundle
{
    public const string AgentInGuest = "/opt/tern/tern-agent";
    public const string SocketDirInGuest = "/run/tern";

    /// <summary>The guest uid handlers run as. gVisor's uids are its own (the sentry runs as an unprivileged host user in
    /// a user namespace of its own), so every worker can use the same one.</summary>
    public const int GuestUid = 65534;

    /// <summary>Mount points of <see cref="RootfsSkeleton"/>: everything the mounts below need.</summary>
    public static readonly string[] MountPoints = ["usr", "etc", "code", "tmp", "proc", "dev", "sys", "run/tern", "opt/tern/runtimes"];

    private static readonly string[] Capabilities = ["CAP_SETUID", "CAP_SETGID", "CAP_KILL"];

    /// <param name="codeDir">The host directory mounted at /code (a package, or a slot the host fills).</param>
    /// <param name="cgroupsPath">The worker's cgroup, which exists already: runsc joins it and leaves its limits alone.</param>
    public static void Write(string path, WorkerSpec spec, string rootfs, string codeDir, string workerDir, string agentPath,
        string? runtimeAssetsDir, string cgroupsPath, bool template)
    {
        using var file = File.Create(path);
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("ociVersion", "1.0.0");

        json.WriteStartObject("process");
        json.WriteStartObject("user");
        json.WriteNumber("uid", 0);
        json.WriteNumber("gid", 0);
        json.WriteEndObject();
        WriteStrings(json, "args", [AgentInGuest]);
        List<string> env =
        [
            "PATH=/usr/local/bin:/usr/bin:/bin", "TMPDIR=/tmp",
            $"TERN_AGENT_SOCKET={SocketDirInGuest}/agent.sock", $"TERN_AGENT_UID={GuestUid}", $"TERN_AGENT_GID={GuestUid}",
        ];
        if (template) env.Add("TERN_AGENT_TEMPLATE=1"); // the agent pre-starts Python and wasm zygotes
        WriteStrings(json, "env", env);
        json.WriteString("cwd", "/code");
        json.WriteBoolean("noNewPrivileges", true);
        json.WriteStartObject("capabilities");
        foreach (var set in new[] { "bounding", "effective", "permitted" }) WriteStrings(json, set, Capabilities);
        json.WriteEndObject();
        json.WriteStartArray("rlimits");
        WriteRlimit(json, "RLIMIT_NOFILE", 1024);
        WriteRlimit(json, "RLIMIT_NPROC", spec.Limits.MaxPids);
        json.WriteEndArray();
        json.WriteEndObject();

        json.WriteStartObject("root");
        json.WriteString("path", rootfs);
        json.WriteBoolean("readonly", true);
        json.WriteEndObject();
        json.WriteString("hostname", "tern");

        json.WriteStartArray("mounts");
        WriteMount(json, "/proc", "proc", "proc", []);
        WriteMount(json, "/dev", "tmpfs", "tmpfs", ["nosuid", "mode=755"]);
        WriteMount(json, "/tmp", "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777"]);
        WriteMount(json, "/usr", "bind", "/usr", ["rbind", "ro"]);
        WriteMount(json, "/etc", "bind", "/etc", ["rbind", "ro"]);
        WriteMount(json, "/code", "bind", codeDir, ["rbind", "ro"]);
        WriteMount(json, AgentInGuest, "bind", agentPath, ["bind", "ro"]);
        WriteMount(json, SocketDirInGuest, "bind", workerDir, ["rbind", "ro"]);
        if (runtimeAssetsDir is not null) WriteMount(json, RuntimeCatalog.AssetsDir, "bind", runtimeAssetsDir, ["rbind", "ro"]);
        json.WriteEndArray();

        json.WriteStartObject("linux");
        json.WriteString("cgroupsPath", cgroupsPath);
        json.WriteStartArray("namespaces");
        foreach (var ns in new[] { "pid", "network", "ipc", "uts", "mount" })
        {
            json.WriteStartObject();
            json.WriteString("type", ns);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();

        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values) json.WriteStringValue(value);
        json.WriteEndArray();
    }

    private static void WriteRlimit(Utf8JsonWriter json, string type, int value)
    {
        json.WriteStartObject();
        json.WriteString("type", type);
        json.WriteNumber("hard", value);
        json.WriteNumber("soft", value);
        json.WriteEndObject();
    }

    private static void WriteMount(Utf8JsonWriter json, string destination, string type, string source, string[] options)
    {
        json.WriteStartObject();
        json.WriteString("destination", destination);
        json.WriteString("type", type);
        json.WriteString("source", source);
        if (options.Length > 0) WriteStrings(json, "options", options);
        json.WriteEndObject();
    }
}
