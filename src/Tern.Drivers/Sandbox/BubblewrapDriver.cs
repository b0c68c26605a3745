using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Core.Code;
using Tern.Drivers.Cgroups;
using Tern.Drivers.Sandbox.Egress;
using Tern.Drivers.Sandbox.Seccomp;
using Tern.Drivers.Sandbox.Uids;

namespace Tern.Drivers.Sandbox;

/// <summary>The default Linux driver: each worker is the agent inside a bubblewrap sandbox, in its own cgroup, under a
/// seccomp filter, as a host uid of its own (when the daemon is root), reached over a Unix socket the host listens on.</summary>
internal sealed partial class BubblewrapDriver : IIsolationDriver, IDisposable
{
    public const string DriverName = "sandbox";

    private readonly SandboxOptions _options;
    private readonly string _stateDir;
    private readonly ICodeSource? _codeSource;
    private readonly ILogger<BubblewrapDriver> _logger;
    private readonly Lazy<ICgroupHierarchy> _cgroups;
    private readonly bool _asRoot = Posix.geteuid() == 0;
    private readonly WorkerUidPool? _uids;
    private readonly Lazy<BubblewrapFeatures> _features;
    private readonly string _seccompFile;
    private readonly string _daemonId;
    private CgroupOwnerLock? _ownerLock;
    private readonly EgressTools _egress;
    private readonly Lazy<string> _egressResolvConf;

    /// <summary>Linux's sun_path holds 108 bytes with the terminating NUL.</summary>
    private const int MaxSocketPathBytes = 107;

    /// <param name="stateRoot">Where worker directories go when the options name none (the host's data dir).</param>
    /// <param name="codeSource">Where workers' code comes from (the host's code store); the sandbox bind-mounts its local path.</param>
    public BubblewrapDriver(IOptions<SandboxOptions> options, ILogger<BubblewrapDriver> logger, DriverStateRoot? stateRoot = null,
        ICodeSource? codeSource = null)
    {
        _codeSource = codeSource;
        _options = options.Value;
        _logger = logger;
        _stateDir = _options.StateDir ?? (stateRoot is null ? Path.Combine(Path.GetTempPath(), "tern-workers") : stateRoot.Directory);
        PrepareStateDir(_stateDir);
        _seccompFile = WriteSeccompProgram(_stateDir);
        _daemonId = DaemonId(_stateDir);
        _egress = new EgressTools(_options, _asRoot);
        InheritedDescriptors.CloseOnExec();
        _egressResolvConf = new(() => WriteEgressResolvConf(_stateDir)); // at the first egress worker
        if (_asRoot) RemoveStaleNamespaces();
        CgroupParent = _options.CgroupParent + "/" + _daemonId;
        if (_asRoot) _uids = new WorkerUidPool(_options.FirstWorkerUid, _options.WorkerUidCount, _options.WorkerUidLockFile);
        // Only a daemon that is not root runs bubblewrap with --unshare-user, where --disable-userns applies.
        _features = new(() => _asRoot ? BubblewrapFeatures.None : BubblewrapFeatures.Probe(_options.BubblewrapPath));
        _cgroups = new(() =>
        {
            var hierarchy = CgroupHierarchy.Detect(_options.CgroupRoot, CgroupParent, out var reason)
                ?? throw new WorkerStartException($"sandbox cannot enforce limits: {reason}");
            // Taken before this daemon's parent exists, so no other daemon ever sees the parent without its lock.
            _ownerLock = CgroupOwnerLock.Take(_options.CgroupOwnersDir, _daemonId);
            hierarchy.RemoveEmptyWorkerCgroups();
            RemoveDeadDaemonsCgroups();
            return hierarchy;
        });
    }

    /// <summary>This daemon's parent cgroup, below the shared <see cref="SandboxOptions.CgroupParent"/>: named after a hash
    /// of the state dir, so a restarted daemon finds and sweeps its own leftovers and never another daemon's.</summary>
    public string CgroupParent { get; }

    public string Name => DriverName;

    public bool SupportsTemplates => true;

    public bool SupportsEgress => true;

    /// <summary>What stops egress workers from starting (the rest are unaffected); null when nothing does.</summary>
    public string? EgressProblem() => _egress.Problem();

    /// <summary>What stops this driver from starting workers, with the command that fixes it; null when nothing does.
    /// Cheap (a few stat calls), so readiness and every start can ask.</summary>
    public string? Problem()
    {
        if (!File.Exists(_options.BubblewrapPath))
            return $"bubblewrap is not installed at {_options.BubblewrapPath}: install it with `apt-get install -y bubblewrap` (or scripts/install-deps.sh)";
        if (Posix.access(_options.BubblewrapPath, Posix.X_OK) != 0)
            return $"bubblewrap at {_options.BubblewrapPath} cannot be executed: reinstall it with `apt-get install --reinstall -y bubblewrap`";
        if (!File.Exists(_options.AgentPath))
            return $"the Tern agent is missing at {_options.AgentPath}: rebuild Tern (./tern --help builds it)";
        if (CgroupHierarchy.Detect(_options.CgroupRoot, _options.CgroupParent, out var reason) is null)
            return $"sandbox cannot enforce limits: {reason}";
        return null;
    }

    public async Task<IWorker> StartWorkerAsync(WorkerSpec spec, CancellationToken ct)
    {
        if (Problem() is { } problem) throw new WorkerStartException(problem);
        if (spec.Network.IsEgress)
        {
            if (spec.Code is null) throw new WorkerStartException("a spare (template) worker never has network");
            if (EgressProblem() is { } egressProblem) throw new WorkerStartException(egressProblem);
        }
        var code = spec.Code is null ? null : Mount(spec.Code);

        var workerDir = Path.Combine(_stateDir, spec.WorkerId);
        var socketPath = Path.Combine(workerDir, "agent.sock");
        if (System.Text.Encoding.UTF8.GetByteCount(socketPath) > MaxSocketPathBytes)
            throw new WorkerStartException($"the worker socket path {socketPath} is longer than {MaxSocketPathBytes} bytes; use a shorter data directory");
        Directory.CreateDirectory(workerDir);
        _ = Posix.chmod(workerDir, 0b111_001_001); // 0711: the sandbox's user may reach the socket, not list the dir
        var codeSlot = spec.Code is null ? workerDir + "-code" : null;
        if (codeSlot is not null)
        {
            foreach (var slot in new[] { codeSlot, BubblewrapCommandLine.CompiledSlot(codeSlot) })
            {
                Directory.CreateDirectory(slot);
                _ = Posix.chmod(slot, 0b111_101_101);
            }
        }

        Socket? listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        IWorkerCgroup? cgroup = null;
        Process? process = null;
        WorkerUid? uid = null;
        EgressNetwork? network = null;
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            listener.Listen(1);
            _ = Posix.chmod(socketPath, 0b110_110_110);

            uid = _uids?.Rent();
            cgroup = _cgroups.Value.Create(spec.WorkerId, CgroupLimits.Of(spec.Limits));
            if (spec.Network.IsEgress)
                network = await EgressNetwork.CreateAsync(_egress, NamespaceName(spec.WorkerId), spec.Network, _stateDir, ct).ConfigureAwait(false);
            process = await Launch(spec, code, workerDir, codeSlot, cgroup, uid, network).ConfigureAwait(false);
            var stderr = new StderrTail(process);
            var connection = await AcceptAsync(listener, process, stderr, ct).ConfigureAwait(false);
            LogStarted(spec.WorkerId, spec.FunctionName, process.Id, uid?.Value);
            var worker = new SandboxWorker(spec.WorkerId, process, connection, cgroup, workerDir, codeSlot, stderr, uid, Mount, network, listener);
            listener = null; // the worker keeps it for the handoff connection
            return worker;
        }
        catch
        {
            if (process is not null) KillQuietly(process);
            if (cgroup is not null) await cgroup.KillAndRemoveAsync().ConfigureAwait(false);
            if (process is not null) await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }).ConfigureAwait(false);
            if (network is not null) await network.DisposeAsync().ConfigureAwait(false);
            uid?.Dispose(); // only once nothing runs as it any more
            TryDeleteDir(workerDir);
            if (codeSlot is not null)
            {
                TryDeleteDir(codeSlot);
                TryDeleteDir(BubblewrapCommandLine.CompiledSlot(codeSlot));
            }
            throw;
        }
        finally
        {
            listener?.Dispose();
        }
    }

    /// <summary>A tiny sh joins the cgroups and then execs bubblewrap, so nothing in the sandbox ever runs outside them.
    /// It also opens the seccomp program on the descriptor bubblewrap reads it from: each launch gets its own open file
    /// (a descriptor shared by all launches would share one read offset).</summary>
    private async Task<Process> Launch(WorkerSpec spec, CodeMount? code, string workerDir, string? codeSlot, IWorkerCgroup cgroup, WorkerUid? uid,
        EgressNetwork? network)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("for f in $TERN_CGROUP_PROCS; do echo $$ > \"$f\" || exit 97; done; unset TERN_CGROUP_PROCS; " +
            $"s=$1; shift; exec \"$@\" {BubblewrapCommandLine.SeccompFd}<\"$s\"");
        psi.ArgumentList.Add("tern-sandbox");
        psi.ArgumentList.Add(_seccompFile);
        if (network is not null)
        {
            psi.ArgumentList.Add(_options.NsenterPath);
            psi.ArgumentList.Add("--net=" + network.NamespacePath);
            psi.ArgumentList.Add("--");
        }
        psi.ArgumentList.Add(_options.BubblewrapPath);
        var args = BubblewrapCommandLine.Build(spec, code, _options, workerDir, codeSlot ?? "", _asRoot,
            disableUserns: _features.Value.DisableUserns, egressResolvConf: network is null ? null : _egressResolvConf.Value);
        foreach (var arg in args) psi.ArgumentList.Add(arg);

        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        psi.Environment["TMPDIR"] = "/tmp";
        psi.Environment["TERN_CGROUP_PROCS"] = string.Join(' ', cgroup.ProcsFiles);
        psi.Environment["TERN_AGENT_SOCKET"] = BubblewrapCommandLine.SocketDirInSandbox + "/agent.sock";
        if (codeSlot is not null) psi.Environment["TERN_AGENT_TEMPLATE"] = "1"; // the agent pre-starts Python and wasm zygotes
        if (uid is not null)
        {
            psi.Environment["TERN_AGENT_UID"] = uid.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            psi.Environment["TERN_AGENT_GID"] = uid.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var process = await LauncherThread.StartAsync(psi).ConfigureAwait(false);
        process.StandardInput.Close();
        return process;
    }

    private async Task<Socket> AcceptAsync(Socket listener, Process process, StderrTail stderr, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.StartTimeout);
        var accept = listener.AcceptAsync(timeout.Token).AsTask();
        var exited = process.WaitForExitAsync(timeout.Token);
        var first = await Task.WhenAny(accept, exited).ConfigureAwait(false);
        if (first == accept && accept.IsCompletedSuccessfully) return accept.Result;

        ct.ThrowIfCancellationRequested();
        if (process.HasExited)
        {
            await stderr.Completion.WaitAsync(TimeSpan.FromSeconds(1)).ContinueWith(_ => { }).ConfigureAwait(false);
            throw new WorkerStartException($"sandbox exited with code {process.ExitCode} before its agent connected: {stderr.Text}".TrimEnd(' ', ':'));
        }
        throw new WorkerStartException($"the agent did not connect within {_options.StartTimeout.TotalSeconds:0} s");
    }

    /// <summary>The state dir is this daemon's alone: 0700, and whatever a previous daemon left in it (killed before it
    /// could clean up) is removed, code links and all.</summary>
    private void PrepareStateDir(string dir)
    {
        Directory.CreateDirectory(dir);
        _ = Posix.chmod(dir, 0b111_000_000);
        var stale = 0;
        foreach (var entry in Directory.EnumerateDirectories(dir))
        {
            TryDeleteDir(entry);
            stale++;
        }
        if (stale > 0) LogStaleRemoved(stale, dir);
    }

    /// <summary>The filter is the same for every worker: built once, written next to the workers' directories (0700),
    /// and opened by each launcher.</summary>
    private static string WriteSeccompProgram(string stateDir)
    {
        var path = Path.Combine(stateDir, "seccomp.bpf");
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, SeccompFilter.Default);
        File.Move(temp, path, overwrite: true);
        return path;
    }

    /// <summary>The same for every egress worker: pasta's DNS forwarder, which relays to the host's resolver.</summary>
    private static string WriteEgressResolvConf(string stateDir)
    {
        var path = Path.Combine(stateDir, "egress-resolv.conf");
        File.WriteAllText(path, $"nameserver {EgressNetwork.Gateway}\n");
        _ = Posix.chmod(path, 0b110_100_100);
        return path;
    }

    /// <summary>Named after this daemon, so a restarted daemon finds (and deletes) what a killed one left.</summary>
    private string NamespaceName(string workerId) => $"tern-{_daemonId}-{workerId}";

    /// <summary>Network namespaces of this daemon's egress workers that a killed daemon left (their pasta exits with them).</summary>
    private void RemoveStaleNamespaces()
    {
        EgressNetwork.KillLeftoverPasta($"tern-{_daemonId}-");
        if (!Directory.Exists(EgressTools.NetnsDir) || !File.Exists(_options.IpPath)) return;
        foreach (var path in Directory.EnumerateFiles(EgressTools.NetnsDir, $"tern-{_daemonId}-*"))
            EgressNetwork.DeleteNamespaceAsync(_egress, Path.GetFileName(path)).GetAwaiter().GetResult();
    }

    /// <summary>Sixteen hex digits of the SHA-256 of the state dir's full path: stable across restarts, distinct per daemon.</summary>
    internal static string DaemonId(string stateDir) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(stateDir))))[..16];

    /// <summary>The parents of daemons that died without cleaning up (killed, or their machine's tests): their worker
    /// cgroups are empty and no launcher will join them, since their owner lock is free.</summary>
    private void RemoveDeadDaemonsCgroups()
    {
        foreach (var id in CgroupHierarchy.DaemonParents(_options.CgroupRoot, _options.CgroupParent))
        {
            if (id == _daemonId) continue;
            using var claim = CgroupOwnerLock.ClaimIfDead(_options.CgroupOwnersDir, id);
            if (claim is null) continue;
            CgroupHierarchy.Detect(_options.CgroupRoot, _options.CgroupParent + "/" + id, out _)?.RemoveParent();
            LogDeadDaemonSwept(id);
        }
    }

    /// <summary>At a clean shutdown (workers already stopped by the pools) the daemon's parent cgroup goes too, and then
    /// its owner lock.</summary>
    public void Dispose()
    {
        if (_cgroups.IsValueCreated) _cgroups.Value.RemoveParent();
        _ownerLock?.Dispose();
        _uids?.Dispose();
    }


    /// <summary>Where the sandbox finds a package on this host. Code by reference: the spec names the package, and this
    /// driver, which shares the host's disk, mounts the code store's copy.</summary>
    private CodeMount Mount(CodeRef code)
    {
        var path = _codeSource?.LocalPath(code)
            ?? throw new WorkerStartException($"code package {code.Hash} is not stored on this host");
        return new CodeMount(path, code.FileName, _codeSource?.CompiledPath(code));
    }
    internal static void KillQuietly(Process process)
    {
        try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } catch (System.ComponentModel.Win32Exception) { }
    }

    internal static void TryDeleteDir(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "removed {Count} worker directories a previous daemon left in {Dir}")]
    private partial void LogStaleRemoved(int count, string dir);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "removed the cgroups of daemon {DaemonId}, which is no longer running")]
    private partial void LogDeadDaemonSwept(string daemonId);

    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "worker {WorkerId} for {Function} started (pid {Pid}, uid {Uid})")]
    private partial void LogStarted(string workerId, string function, int pid, uint? uid);
}
