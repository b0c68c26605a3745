using Tern.Runtimes;

namespace Tern.Drivers.Sandbox;

/// <summary>The bubblewrap arguments of one worker: fresh pid, mount, net, ipc and uts namespaces; system
/// directories read-only; the code read-only at /code; a private /tmp; the agent's socket directory at /run/tern; every
/// process under the seccomp filter (Seccomp/SeccompProfile.cs).</summary>
internal static class BubblewrapCommandLine
{
    public const string AgentInSandbox = "/opt/tern/tern-agent";
    public const string SocketDirInSandbox = "/run/tern";

    /// <summary>The descriptor the launcher opens the seccomp program on (a single digit: dash redirects no higher).</summary>
    public const int SeccompFd = 3;

    /// <summary>A template's second slot, beside its code slot: filled with the package's precompiled modules at assign.</summary>
    public static string CompiledSlot(string codeSlotDir) => codeSlotDir + "-compiled";

    /// <param name="seccompFd">Where bubblewrap reads the BPF program; null only in tests that look at one layer alone.</param>
    /// <param name="disableUserns">bubblewrap supports --disable-userns (0.8.0+); used wherever it runs --unshare-user.</param>
    /// <param name="egressResolvConf">For egress: a resolv.conf naming pasta's DNS forwarder, mounted over /etc/resolv.conf.</param>
    public static List<string> Build(WorkerSpec spec, CodeMount? code, SandboxOptions options, string workerDir, string codeSlotDir, bool asRoot,
        int? seccompFd = SeccompFd, bool disableUserns = false, string? egressResolvConf = null)
    {
        var args = new List<string>
        {
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--hostname", "tern",
            "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--tmpfs", "/tmp",
            // Parents bubblewrap creates implicitly are 0700; the unprivileged handler must be able to traverse them.
            "--dir", "/run", "--dir", "/opt", "--dir", "/opt/tern",
            "--ro-bind", workerDir, SocketDirInSandbox,
            "--ro-bind", options.AgentPath, AgentInSandbox,
        };
        // An egress worker's sandbox is started inside its prepared network namespace (nsenter; EgressNetwork); every
        // other one gets a new, empty one.
        if (!spec.Network.IsEgress) args.Add("--unshare-net");
        else if (egressResolvConf is not null) args.AddRange(["--ro-bind", egressResolvConf, "/etc/resolv.conf"]);
        if (Directory.Exists(options.RuntimeAssetsDir)) args.AddRange(["--ro-bind", options.RuntimeAssetsDir, RuntimeCatalog.AssetsDir]);
        if (asRoot)
        {
            // bubblewrap run by root keeps every capability; keep only what the agent needs to become the worker's uid.
            // NO_NEW_PRIVS (set by bubblewrap) stops set-uid binaries from winning anything back.
            args.AddRange(["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]);
        }
        else
        {
            args.Add("--unshare-user");
            // Caps the sandbox's user namespace at itself (user.max_user_namespaces = 1 inside, in a namespace the
            // handler cannot undo): no nested user namespace even if the seccomp filter let one through. A root daemon
            // cannot use this: with --unshare-user bubblewrap maps the sandbox to the caller's uid, which would be host
            // root, and the agent could no longer drop to the worker's own uid. There the seccomp filter alone refuses
            // unshare, setns and clone/clone3 with namespace flags.
            if (disableUserns) args.Add("--disable-userns");
        }
        if (seccompFd is { } fd) args.AddRange(["--seccomp", fd.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        // What the daemon precompiled (wasm modules): a template's comes into its slot with the code.
        if (code is null) args.AddRange(["--ro-bind", CompiledSlot(codeSlotDir), RuntimeCatalog.WasmCompiledDir]);
        else if (code.CompiledPath is { } compiled && Directory.Exists(compiled)) args.AddRange(["--ro-bind", compiled, RuntimeCatalog.WasmCompiledDir]);
        if (code is null)
            args.AddRange(["--ro-bind", codeSlotDir, "/code"]); // a template: the host fills the slot before Init
        else if (code.IsSingleFile)
            args.AddRange(["--dir", "/code", "--ro-bind", code.HostPath, "/code/" + code.FileName]);
        else
            args.AddRange(["--ro-bind", code.HostPath, "/code"]);
        args.AddRange(["--chdir", "/code", "--", AgentInSandbox]);
        return args;
    }
}
