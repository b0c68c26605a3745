using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Core.Code;
using Tern.Core.Functions;
using Tern.Core.Telemetry;
using Tern.Drivers.Cgroups;
using Tern.Drivers.Sandbox;

namespace Tern.Drivers.Gvisor;

/// <summary>Each worker is the agent inside a gVisor sandbox (`runsc run` of an OCI bundle): its system calls are served
/// by gVisor's user-space kernel, not the host's, so a kernel bug reachable from a handler is gVisor's, not Linux's. The
/// agent dials a Unix socket the host listens on, as in the sandbox driver, so everything above the byte stream is the
/// same. Needs a root daemon (runsc makes cgroups and namespaces) and runsc (Debian's `runsc` package; for the faster
/// systrap platform the newer build scripts/install-runsc.sh installs, see <see cref="RunscPlatform"/>).
/// Nothing is touched on disk until the first worker starts: a daemon that never runs a gVisor function pays nothing.</summary>
internal sealed partial class GvisorDriver : IIsolationDriver, IDisposable
{
    public const string DriverName = "gvisor";

    /// <summary>Linux's sun_path holds 108 bytes with the terminating NUL.</summary>
    private const int MaxSocketPathBytes = 107;

    private readonly GvisorOptions _options;
    private readonly SandboxOptions _sandbox;
    private readonly ICodeSource? _codeSource;
    private readonly ILogger<GvisorDriver> _logger;
    private readonly string _stateDir;
    private readonly string _runscPath;
    private readonly Runsc _runsc;
    private readonly Lazy<RunscPlatform> _platform;
    private readonly Lazy<GvisorCgroups> _cgroups;
    private readonly Lazy<string> _rootfs;

    /// <param name="sandbox">The agent, runtime assets and cgroup settings, shared with the sandbox driver.</param>
    /// <param name="stateRoot">The sandbox driver's default state dir; gVisor's default is a sibling of it ("g").</param>
    public GvisorDriver(IOptions<GvisorOptions> options, IOptions<SandboxOptions> sandbox, ILogger<GvisorDriver> logger,
        DriverStateRoot? stateRoot = null, ICodeSource? codeSource = null, TernMetrics? metrics = null)
    {
        _options = options.Value;
        _sandbox = sandbox.Value;
        _logger = logger;
        _codeSource = codeSource;
        _stateDir = Path.GetFullPath(_options.StateDir ?? (stateRoot is null
            ? Path.Combine(Path.GetTempPath(), "tern-gvisor")
            : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(stateRoot.Directory))!, "g")));
        _runscPath = _options.ResolvedRunscPath();
        // Problem() asks for the platform only once runsc exists and the rest is in place; workers start only after it.
        _platform = new(() => RunscPlatform.Decide(_runsc!, _options.Platform));
        _runsc = new Runsc(_runscPath, Path.Combine(_stateDir, "runsc"), () => _platform.Value.Name ?? RunscPlatform.Ptrace);
        metrics?.Meter.CreateObservableGauge("tern_gvisor_platform_info", () => Platform is { } platform
                ? [new Measurement<int>(1, new KeyValuePair<string, object?>("platform", platform))]
                : Array.Empty<Measurement<int>>(),
            description: "1 for the platform gVisor workers run on (systrap, ptrace or kvm), once decided.");
        _rootfs = new(PrepareStateDir);
        _cgroups = new(() =>
        {
            _ = _rootfs.Value; // containers of a previous daemon go before their cgroups are swept
            return GvisorCgroups.Open(_sandbox.CgroupRoot, _sandbox.CgroupParent, _sandbox.CgroupOwnersDir, BubblewrapDriver.DaemonId(_stateDir));
        });
    }

    public string Name => DriverName;

    public bool SupportsTemplates => true;

    public string StateDir => _stateDir;

    /// <summary>This daemon's gVisor cgroup parent (relative to each hierarchy's root), once the driver has been used.</summary>
    public string? CgroupParent => _cgroups.IsValueCreated ? _cgroups.Value.Parent : null;

    /// <summary>The platform workers run on (systrap, ptrace or kvm) once decided; null before, or when it cannot be.</summary>
    public string? Platform => _platform.IsValueCreated ? _platform.Value.Name : null;

    /// <summary>Why that platform (readiness shows it); null before it is decided.</summary>
    public string? PlatformNote => _platform.IsValueCreated ? _platform.Value.Note : null;

    /// <summary>What stops this driver from starting workers, with the command that fixes it; null when nothing does.
    /// Cheap (a few stat calls, and once per driver the platform probe, one short runsc process): readiness,
    /// registration and every start ask.</summary>
    public string? Problem()
    {
        if (!File.Exists(_runscPath))
            return $"gVisor is not installed: no runsc at {_runscPath}; install it with `apt-get install -y runsc` (or scripts/install-deps.sh)";
        if (Posix.access(_runscPath, Posix.X_OK) != 0)
            return $"runsc at {_runscPath} cannot be executed: reinstall it with `apt-get install --reinstall -y runsc`";
        if (Posix.geteuid() != 0)
            return "gvisor needs a daemon running as root (runsc creates the sandbox's namespaces and cgroups)";
        if (_options.Platform == "kvm" && !File.Exists("/dev/kvm"))
            return "gvisor's kvm platform needs /dev/kvm, which this machine lacks: set gvisor.platform to auto";
        if (!File.Exists(_sandbox.AgentPath))
            return $"the Tern agent is missing at {_sandbox.AgentPath}: rebuild Tern (./tern --help builds it)";
        if (CgroupHierarchy.Detect(_sandbox.CgroupRoot, _sandbox.CgroupParent, out var reason) is null)
            return $"gvisor cannot enforce limits: {reason}";
        return _platform.Value.Problem;
    }

    public async Task<IWorker> StartWorkerAsync(WorkerSpec spec, CancellationToken ct)
    {
        if (Problem() is { } problem) throw new WorkerStartException(problem);
        // Registration refuses egress on a driver without SupportsEgress; never run one with an unfiltered network.
        if (spec.Network.Mode != FunctionNetwork.NoneMode)
            throw new WorkerStartException("the gvisor driver gives workers no network; network egress needs isolation: sandbox");
        var rootfs = _rootfs.Value;
        var cgroups = _cgroups.Value;

        var workerDir = Path.Combine(_stateDir, spec.WorkerId);
        var bundleDir = workerDir + ".oci";
        var socketPath = Path.Combine(workerDir, "agent.sock");
        if (Encoding.UTF8.GetByteCount(socketPath) > MaxSocketPathBytes)
            throw new WorkerStartException($"the worker socket path {socketPath} is longer than {MaxSocketPathBytes} bytes; use a shorter gvisor.stateDir");
        var code = spec.Code is null ? null : Mount(spec.Code);
        // A template's /code is a slot filled later; a single file is linked into one too (a read-only root has no
        // mount point for it). A package directory is mounted as it is.
        var codeSlot = code is null || code.IsSingleFile ? workerDir + "-code" : null;

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        IWorkerCgroup? cgroup = null;
        Process? process = null;
        try
        {
            Directory.CreateDirectory(workerDir);
            _ = Posix.chmod(workerDir, 0b111_001_001);
            Directory.CreateDirectory(bundleDir);
            if (codeSlot is not null)
            {
                Directory.CreateDirectory(codeSlot);
                _ = Posix.chmod(codeSlot, 0b111_101_101);
                if (code is not null) CodeSlot.Fill(codeSlot, code);
            }
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            listener.Listen(1);
            _ = Posix.chmod(socketPath, 0b110_110_110);

            // Started without a CPU quota: it covers gVisor's own kernel too, and a 1-vCPU quota would throttle the boot.
            cgroup = cgroups.Hierarchy.Create(spec.WorkerId, Limits(spec.Limits) with { Vcpus = Math.Max(spec.Limits.Vcpus, Environment.ProcessorCount) });
            var runtimeAssets = Directory.Exists(_sandbox.RuntimeAssetsDir) ? _sandbox.RuntimeAssetsDir : null;
            OciBundle.Write(Path.Combine(bundleDir, "config.json"), spec, rootfs, codeSlot ?? code!.HostPath, workerDir,
                _sandbox.AgentPath, runtimeAssets, "/" + cgroups.Parent + "/" + spec.WorkerId, template: code is null);

            process = Process.Start(_runsc.Run(bundleDir, spec.WorkerId))
                ?? throw new WorkerStartException("could not start runsc");
            process.StandardInput.Close();
            var stderr = new StderrTail(process);
            var connection = await AcceptAsync(listener, process, stderr, bundleDir, ct).ConfigureAwait(false);
            if (code is not null) cgroup.SetLimits(Limits(spec.Limits));
            LogStarted(spec.WorkerId, spec.FunctionName, process.Id);
            return new GvisorWorker(spec.WorkerId, process, connection, cgroup, _runsc, workerDir, bundleDir, codeSlot, stderr, Mount, Limits);
        }
        catch
        {
            if (cgroup is not null) await cgroup.KillAndRemoveAsync().ConfigureAwait(false);
            if (process is not null)
            {
                KillQuietly(process);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                await Task.Run(() => _runsc.DeleteForce(spec.WorkerId), CancellationToken.None).ConfigureAwait(false);
            }
            TryDeleteDir(workerDir);
            TryDeleteDir(bundleDir);
            if (codeSlot is not null) TryDeleteDir(codeSlot);
            throw;
        }
        finally
        {
            listener.Dispose();
        }
    }

    /// <summary>The worker's cgroup limits: the function's memory plus room for gVisor's own processes; the host's pids
    /// limit only as a backstop (each guest process costs about 21 host tasks under bookworm's runsc on ptrace, ~2 on
    /// systrap; a guest thread about 1), since the guest's own limit is RLIMIT_NPROC.</summary>
    private CgroupLimits Limits(WorkerLimits limits) =>
        new(limits.MemoryMb + _options.MemoryOverheadMb, limits.Vcpus, 128 + 24 * limits.MaxPids);

    private async Task<Socket> AcceptAsync(Socket listener, Process process, StderrTail stderr, string bundleDir, CancellationToken ct)
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
            await stderr.Completion.WaitAsync(TimeSpan.FromSeconds(1)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            var reasons = string.Join("; ", new[] { stderr.Text, FatalLines(bundleDir) }.Where(s => s.Length > 0));
            throw new WorkerStartException($"runsc exited with code {process.ExitCode} before the agent connected: {reasons}".TrimEnd(' ', ':'));
        }
        throw new WorkerStartException($"the agent did not connect within {_options.StartTimeout.TotalSeconds:0} s");
    }

    /// <summary>runsc's top-level error for a failed create says only "EOF"; the cause is a FATAL line in a debug log.</summary>
    private static string FatalLines(string bundleDir)
    {
        try
        {
            return string.Join("; ", Directory.EnumerateFiles(bundleDir, "runsc-*.log")
                .SelectMany(File.ReadLines)
                .Where(line => line.Contains("FATAL", StringComparison.Ordinal))
                .Distinct()
                .Take(3));
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Empties the state dir a previous daemon on it left (killed before it could clean up): its containers
    /// first (runsc delete also removes the cgroups runsc made), then the directories. Returns the shared root.</summary>
    private string PrepareStateDir()
    {
        Directory.CreateDirectory(_stateDir);
        _ = Posix.chmod(_stateDir, 0b111_000_000);
        var stale = 0;
        foreach (var id in _runsc.List())
        {
            _runsc.DeleteForce(id);
            stale++;
        }
        foreach (var entry in Directory.EnumerateDirectories(_stateDir))
        {
            if (Path.GetFileName(entry) == "rootfs") continue;
            TryDeleteDir(entry);
        }
        if (stale > 0) LogStaleRemoved(stale, _stateDir);
        return RootfsSkeleton.Create(Path.Combine(_stateDir, "rootfs"));
    }

    private CodeMount Mount(CodeRef code)
    {
        var path = _codeSource?.LocalPath(code)
            ?? throw new WorkerStartException($"code package {code.Hash} is not stored on this host");
        return new CodeMount(path, code.FileName);
    }

    public void Dispose()
    {
        if (_cgroups.IsValueCreated) _cgroups.Value.Dispose();
    }

    internal static void KillQuietly(Process process)
    {
        try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } catch (System.ComponentModel.Win32Exception) { }
    }

    internal static void TryDeleteDir(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [LoggerMessage(EventId = 120, Level = LogLevel.Debug, Message = "gvisor worker {WorkerId} for {Function} started (runsc pid {Pid})")]
    private partial void LogStarted(string workerId, string function, int pid);

    [LoggerMessage(EventId = 121, Level = LogLevel.Information, Message = "removed {Count} gvisor containers a previous daemon left in {Dir}")]
    private partial void LogStaleRemoved(int count, string dir);
}
