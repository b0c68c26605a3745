using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Core.Code;
using Tern.Core.Functions;
using Tern.Core.Telemetry;
using Tern.Drivers.Microvm.Images;
using Tern.Drivers.Microvm.Qemu;

namespace Tern.Drivers.Microvm;

/// <summary>Each worker is a microVM (QEMU's microvm machine today, behind <see cref="IVmBackend"/>): its own guest
/// kernel from the runtime's image, the function's code on a read-only drive, a tmpfs /tmp, the function's memory (plus
/// the guest kernel's headroom) and vCPUs, no network device, and the agent as PID 1 talking over virtio-serial. After a
/// code's first cold boot the VM's state is saved (before Init: the agent is up, no handler loaded), and later cold
/// starts of that code restore it instead of booting.</summary>
internal sealed partial class MicrovmDriver : IIsolationDriver, IWorkerSnapshots
{
    public const string DriverName = "microvm";
    private const int MaxSocketPathBytes = 107;

    private readonly MicrovmOptions _options;
    private readonly ILogger<MicrovmDriver> _logger;
    private readonly IVmBackend _backend;
    private readonly string _stateDir;
    private readonly CodeDrives _codeDrives;
    private readonly SnapshotStore _snapshots;
    private readonly AcceleratorProbe _probe;
    private readonly MicrovmMetrics _metrics;
    private readonly Lazy<bool> _prepared;

    /// <param name="stateRoot">The sandbox driver's default state dir ({dataDir}/w); microVM defaults are its siblings.</param>
    /// <param name="sandbox">Names the agent binary; an image whose agent differs is stale (built by another Tern).</param>
    public MicrovmDriver(IOptions<MicrovmOptions> options, ILogger<MicrovmDriver> logger, DriverStateRoot? stateRoot = null,
        ICodeSource? codeSource = null, TernMetrics? metrics = null, IOptions<Sandbox.SandboxOptions>? sandbox = null)
        : this(options.Value, logger, stateRoot, codeSource, metrics, new QemuBackend(options.Value.QemuPath, VmUids(sandbox?.Value)))
    {
        var agent = (sandbox?.Value ?? new Sandbox.SandboxOptions()).AgentPath;
        _agentSha256 = new(() => File.Exists(agent) ? GuestImageBuilder.FileSha256(agent) : null);
    }

    /// <summary>A root daemon runs each QEMU as a uid of its own, from the range (and under the cross-daemon lock) its
    /// sandbox workers' uids come from, so a VM never shares a uid with another VM or a sandbox worker.</summary>
    private static Sandbox.Uids.WorkerUidPool? VmUids(Sandbox.SandboxOptions? sandbox)
    {
        if (Posix.geteuid() != 0) return null;
        sandbox ??= new Sandbox.SandboxOptions();
        return new Sandbox.Uids.WorkerUidPool(sandbox.FirstWorkerUid, sandbox.WorkerUidCount, sandbox.WorkerUidLockFile);
    }

    private readonly Lazy<string?> _agentSha256 = new(() => null);

    internal MicrovmDriver(MicrovmOptions options, ILogger<MicrovmDriver> logger, DriverStateRoot? stateRoot, ICodeSource? codeSource,
        TernMetrics? metrics, IVmBackend backend)
    {
        _options = options;
        _logger = logger;
        _backend = backend;
        var dataDir = stateRoot is null
            ? Path.Combine(Path.GetTempPath(), "tern-microvm")
            : Path.GetDirectoryName(Path.GetFullPath(stateRoot.Directory))!;
        ImagesDir = Path.GetFullPath(_options.ImagesDir ?? Path.Combine(dataDir, "images"));
        _stateDir = Path.GetFullPath(_options.StateDir ?? Path.Combine(dataDir, "m"));
        _codeDrives = new CodeDrives(Path.Combine(_stateDir, "code"), codeSource);
        _snapshots = new SnapshotStore(Path.Combine(_stateDir, "snapshots"));
        _probe = new AcceleratorProbe(backend, _options.Accelerator, _stateDir);
        _metrics = new MicrovmMetrics(metrics, () => _probe.Accelerator);
        _prepared = new(PrepareStateDir);
    }

    public string Name => DriverName;
    public string Isolation => DriverName;
    public bool SupportsTemplates => false;
    public string ImagesDir { get; }

    /// <summary>kvm or tcg once the first VM started (null before), and why.</summary>
    public string? Accelerator => _probe.Accelerator;
    public string AcceleratorReason => _probe.Reason;

    /// <summary>What stops this driver from starting workers; null when nothing does. Cheap (a few stat calls). Which
    /// runtime's image a function needs is checked at its start; here any built image will do.</summary>
    public string? Problem()
    {
        if (_backend.Problem() is { } backend) return backend;
        var images = GuestImageBuilder.Runtimes.Select(r => GuestImage.Find(ImagesDir, r)).OfType<GuestImage>().ToList();
        if (images.Count == 0) return $"no microVM guest image is built in {ImagesDir}: run `tern images build python`";
        // One usable image is enough here (a stale node image must not block python functions); a function whose own
        // image is stale fails its start with the rebuild command.
        var stale = images.Select(Stale).ToList();
        return stale.All(s => s is not null) ? stale[0] : null;
    }

    /// <summary>An image whose agent is not this Tern's would speak an older protocol: it must be rebuilt, not run.</summary>
    private string? Stale(GuestImage image) =>
        _agentSha256.Value is { } current && image.AgentSha256() is { } built && built != current
            ? $"the microVM guest image for {image.Runtime} was built with another version of the Tern agent: run `tern images build {image.Runtime}`"
            : null;

    private GuestImage FindImage(string runtime)
    {
        var image = GuestImage.Find(ImagesDir, runtime)
            ?? throw new WorkerStartException($"no microVM guest image for runtime '{runtime}' in {ImagesDir}: run `tern images build {runtime}`");
        return Stale(image) is { } stale ? throw new WorkerStartException(stale) : image;
    }

    public async Task<IWorker> StartWorkerAsync(WorkerSpec spec, CancellationToken ct)
    {
        if (_backend.Problem() is { } problem) throw new WorkerStartException(problem);
        if (spec.Network.Mode != FunctionNetwork.NoneMode)
            throw new WorkerStartException("the microvm driver gives workers no network; network egress needs isolation: sandbox");
        var code = spec.Code ?? throw new WorkerStartException("the microvm driver starts workers with their code (no templates)");
        var runtime = spec.Runtime ?? "python";
        var image = FindImage(runtime);
        _ = _prepared.Value;
        var accelerator = await _probe.ResolveAsync(image, ct).ConfigureAwait(false);
        var codeDrive = await _codeDrives.GetAsync(code, ct).ConfigureAwait(false);
        var dir = Path.Combine(_stateDir, "w", spec.WorkerId.Length > 24 ? spec.WorkerId[..24] : spec.WorkerId);
        var launch = new VmLaunch(spec.WorkerId, dir, image, codeDrive, spec.Limits.MemoryMb + _options.MemoryOverheadMb,
            Math.Max(1, spec.Limits.Vcpus), accelerator, RestoreFrom: null);
        if (Encoding.UTF8.GetByteCount(launch.ControlSocket) > MaxSocketPathBytes)
            throw new WorkerStartException($"the worker socket path {launch.ControlSocket} is longer than {MaxSocketPathBytes} bytes; use a shorter microvm.stateDir");
        var key = SnapshotStore.Key(launch, _backend.Name + "/" + _backend.MachineRevision);

        if (_options.Snapshots && _snapshots.Find(spec.FunctionName, key) is { } snapshot)
        {
            try
            {
                return await LaunchAsync(launch with { RestoreFrom = snapshot }, ct).ConfigureAwait(false);
            }
            catch (WorkerStartException e) when (!ct.IsCancellationRequested)
            {
                // A snapshot that does not restore (another QEMU, a damaged file) is dropped, never retried.
                LogRestoreFailed(spec.FunctionName, e.Message);
                _snapshots.Remove(spec.FunctionName, key);
            }
        }
        var (worker, bootSeconds) = await BootAsync(launch, ct).ConfigureAwait(false);
        if (_options.Snapshots && _snapshots.Find(spec.FunctionName, key) is null)
            await TrySaveAsync(worker, spec, key, bootSeconds, ct).ConfigureAwait(false);
        return worker;
    }

    /// <summary>Boots a VM for the function, saves its state and stops it: `tern snapshot create`.</summary>
    public async Task<WorkerSnapshotInfo> CreateAsync(WorkerSpec spec, CancellationToken ct)
    {
        if (Problem() is { } problem) throw new WorkerStartException(problem);
        var code = spec.Code ?? throw new WorkerStartException("a snapshot needs the function's code");
        var runtime = spec.Runtime ?? "python";
        var image = FindImage(runtime);
        _ = _prepared.Value;
        var accelerator = await _probe.ResolveAsync(image, ct).ConfigureAwait(false);
        var codeDrive = await _codeDrives.GetAsync(code, ct).ConfigureAwait(false);
        var launch = new VmLaunch(spec.WorkerId, Path.Combine(_stateDir, "w", spec.WorkerId.Length > 24 ? spec.WorkerId[..24] : spec.WorkerId),
            image, codeDrive, spec.Limits.MemoryMb + _options.MemoryOverheadMb, Math.Max(1, spec.Limits.Vcpus), accelerator, null);
        var key = SnapshotStore.Key(launch, _backend.Name + "/" + _backend.MachineRevision);
        var (worker, bootSeconds) = await BootAsync(launch, ct).ConfigureAwait(false);
        await using (worker.ConfigureAwait(false))
        {
            return await SaveAsync(worker, spec, key, bootSeconds, ct).ConfigureAwait(false);
        }
    }

    public IReadOnlyList<WorkerSnapshotInfo> List(string function) => _snapshots.List(function);

    public int Delete(string function) => _snapshots.Delete(function);

    private async Task<(MicrovmWorker, double)> BootAsync(VmLaunch launch, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var worker = await LaunchAsync(launch, ct).ConfigureAwait(false);
        return (worker, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private async Task TrySaveAsync(MicrovmWorker worker, WorkerSpec spec, string key, double bootSeconds, CancellationToken ct)
    {
        try
        {
            await SaveAsync(worker, spec, key, bootSeconds, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or SocketException or System.Text.Json.JsonException)
        {
            // The worker serves on without a snapshot; the next cold start boots (and tries again).
            LogSaveFailed(spec.FunctionName, e.Message);
        }
    }

    private async Task<WorkerSnapshotInfo> SaveAsync(MicrovmWorker worker, WorkerSpec spec, string key, double bootSeconds, CancellationToken ct)
    {
        var temp = _snapshots.NewTempPath(spec.FunctionName, spec.WorkerId);
        try
        {
            var started = Stopwatch.GetTimestamp();
            await _backend.SaveSnapshotAsync(worker.Vm, temp, ct).ConfigureAwait(false);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            _metrics.Save?.Record(seconds, MicrovmMetrics.Accelerator(worker.Vm.Launch.Accelerator));
            var info = _snapshots.Commit(spec.FunctionName, key, temp, spec.Code!.Hash, bootSeconds, seconds, worker.Vm.Launch.Accelerator);
            LogSaved(spec.FunctionName, info.Bytes / (1024 * 1024), seconds);
            return info;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Launches (boots or restores) and waits until the agent answers a Ping over the VM's serial port.</summary>
    private async Task<MicrovmWorker> LaunchAsync(VmLaunch launch, CancellationToken ct)
    {
        TryDeleteDir(launch.Dir);
        Directory.CreateDirectory(launch.Dir);
        _ = Posix.chmod(launch.Dir, 0b111_000_000);
        var started = Stopwatch.GetTimestamp();
        VmInstance? vm = null;
        Socket? socket = null;
        try
        {
            vm = await _backend.LaunchAsync(launch, ct).ConfigureAwait(false);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_options.StartTimeout);
            socket = await AgentHandshake.ConnectAsync(launch.AgentSocket, vm.Exited, timeout.Token).ConfigureAwait(false);
            await AgentHandshake.PingAsync(socket, vm.Exited, timeout.Token).ConfigureAwait(false);
            var clock = await GuestClockSync.SetAsync(socket, timeout.Token).ConfigureAwait(false); // before Init or a call
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var restored = launch.RestoreFrom is not null;
            (restored ? _metrics.Restore : _metrics.Boot)?.Record(seconds, MicrovmMetrics.Accelerator(launch.Accelerator));
            LogStarted(launch.Id, restored ? "restored" : "booted", seconds, launch.Accelerator, clock.StepMs, clock.RoundTripMs);
            return new MicrovmWorker(launch.Id, vm, socket, restored, seconds) { Clock = clock };
        }
        catch (Exception e) when (e is not WorkerStartException)
        {
            var reason = await FailureAsync(vm, e, ct).ConfigureAwait(false);
            Cleanup(vm, socket, launch.Dir);
            throw new WorkerStartException(reason, e);
        }
        catch
        {
            Cleanup(vm, socket, launch.Dir);
            throw;
        }
    }

    private async Task<string> FailureAsync(VmInstance? vm, Exception e, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (vm is null) return $"could not start QEMU: {e.Message}";
        var what = vm.Launch.RestoreFrom is null ? "boot" : "restore from its snapshot";
        if (vm.Process.HasExited)
        {
            await vm.Stderr.Completion.WaitAsync(TimeSpan.FromSeconds(1)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            return $"the microVM exited (QEMU code {vm.Process.ExitCode}) before its agent answered ({what}): {vm.Stderr.Text} {vm.ConsoleTail(600)}".Trim();
        }
        return e is OperationCanceledException
            ? $"the microVM's agent did not answer within {_options.StartTimeout.TotalSeconds:0} s ({what}): {vm.ConsoleTail(600)}".Trim()
            : $"the microVM's agent channel failed ({what}): {e.Message}";
    }

    private static void Cleanup(VmInstance? vm, Socket? socket, string dir)
    {
        socket?.Dispose();
        if (vm is not null)
        {
            KillQuietly(vm.Process);
            vm.Process.WaitForExit(5000);
            vm.Process.Dispose();
        }
        TryDeleteDir(dir);
    }

    /// <summary>Kills the VMs a previous daemon on this state dir left running (QEMU outlives a killed parent) by the
    /// pid files QEMU wrote, checking that the pid is still a QEMU of that worker, then removes their directories.</summary>
    private bool PrepareStateDir()
    {
        Directory.CreateDirectory(_stateDir);
        _ = Posix.chmod(_stateDir, 0b111_000_000);
        var workers = Path.Combine(_stateDir, "w");
        if (Directory.Exists(workers))
        {
            foreach (var dir in Directory.EnumerateDirectories(workers))
            {
                try
                {
                    if (int.TryParse(File.ReadAllText(Path.Combine(dir, "qemu.pid")).Trim(), out var pid)
                        && File.ReadAllText($"/proc/{pid}/cmdline").Contains(dir, StringComparison.Ordinal))
                        _ = Posix.kill(pid, Posix.SIGKILL);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
            TryDeleteDir(workers);
        }
        return true;
    }

    internal static void KillQuietly(Process process)
    {
        try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } catch (System.ComponentModel.Win32Exception) { }
    }

    internal static void TryDeleteDir(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (DirectoryNotFoundException) { } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [LoggerMessage(EventId = 130, Level = LogLevel.Information,
        Message = "microvm worker {WorkerId} {How} in {Seconds:0.000} s ({Accelerator}); guest clock stepped {StepMs:0.0} ms to the host's (round trip {RoundTripMs:0.00} ms)")]
    private partial void LogStarted(string workerId, string how, double seconds, string accelerator, double stepMs, double roundTripMs);

    [LoggerMessage(EventId = 131, Level = LogLevel.Information, Message = "microvm snapshot of {Function} saved: {Megabytes} MB in {Seconds:0.000} s")]
    private partial void LogSaved(string function, long megabytes, double seconds);

    [LoggerMessage(EventId = 132, Level = LogLevel.Warning, Message = "microvm snapshot of {Function} could not be saved: {Reason}")]
    private partial void LogSaveFailed(string function, string reason);

    [LoggerMessage(EventId = 133, Level = LogLevel.Warning, Message = "microvm snapshot of {Function} did not restore and was dropped: {Reason}")]
    private partial void LogRestoreFailed(string function, string reason);
}
