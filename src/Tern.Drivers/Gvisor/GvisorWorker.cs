using System.Diagnostics;
using System.Net.Sockets;
using Tern.Core.Code;
using Tern.Drivers.Cgroups;
using Tern.Drivers.Sandbox;

namespace Tern.Drivers.Gvisor;

/// <summary>A running gVisor worker: the agent in a runsc sandbox whose sentry, gofer and stub processes all sit in the
/// worker's cgroup. Killing the cgroup's processes ends the sandbox at once; `runsc run` then notices, removes the
/// container's state and exits. Whatever it could not remove (it was killed itself) `runsc delete --force` does.</summary>
internal sealed class GvisorWorker : IWorker
{
    private readonly Process _process;
    private readonly Socket _socket;
    private readonly IWorkerCgroup _cgroup;
    private readonly Runsc _runsc;
    private readonly string _workerDir;
    private readonly string _bundleDir;
    private readonly string? _codeSlot;
    private readonly StderrTail _stderr;
    private readonly Func<CodeRef, CodeMount> _mount;
    private readonly Func<WorkerLimits, CgroupLimits> _cgroupLimits;
    private readonly Lazy<Task> _teardown;
    private bool _assigned;
    private bool _outOfMemory;
    private int? _exitCode;

    public GvisorWorker(string id, Process process, Socket socket, IWorkerCgroup cgroup, Runsc runsc, string workerDir, string bundleDir,
        string? codeSlot, StderrTail stderr, Func<CodeRef, CodeMount> mount, Func<WorkerLimits, CgroupLimits> cgroupLimits)
    {
        Id = id;
        _process = process;
        _socket = socket;
        _cgroup = cgroup;
        _runsc = runsc;
        _workerDir = workerDir;
        _bundleDir = bundleDir;
        _codeSlot = codeSlot;
        _stderr = stderr;
        _mount = mount;
        _cgroupLimits = cgroupLimits;
        Stream = new NetworkStream(socket, ownsSocket: false);
        Exited = process.WaitForExitAsync();
        _teardown = new(TeardownAsync);
    }

    public string Id { get; }
    public Stream Stream { get; }
    public Task Exited { get; }

    /// <summary>An OOM kill anywhere in the sandbox ends the whole worker (the kernel kills a stub process or the sentry),
    /// unlike bubblewrap, where only the handler dies: the cgroup's oom_kill counter tells the two endings apart.</summary>
    public ValueTask<WorkerDiagnostics> DiagnoseAsync()
    {
        if (!_teardown.IsValueCreated) _outOfMemory |= _cgroup.OutOfMemory();
        var exitCode = _teardown.IsValueCreated ? _exitCode : _process.HasExited ? _process.ExitCode : (int?)null;
        return ValueTask.FromResult(new WorkerDiagnostics(_outOfMemory, exitCode, _stderr.Text));
    }

    /// <summary>Hard-links the package into the slot mounted at /code (gVisor revalidates bind mounts, so the guest sees
    /// the files at Init) and applies the function's limits.</summary>
    public ValueTask AssignAsync(CodeRef code, WorkerLimits limits, CancellationToken ct)
    {
        if (_codeSlot is null || _assigned) throw new NotSupportedException("only an unassigned template worker can be given code");
        ct.ThrowIfCancellationRequested();
        _assigned = true;
        CodeSlot.Fill(_codeSlot, _mount(code));
        _cgroup.SetLimits(_cgroupLimits(limits));
        return ValueTask.CompletedTask;
    }

    public ValueTask KillAsync() => new(_teardown.Value);

    public ValueTask DisposeAsync() => KillAsync();

    private async Task TeardownAsync()
    {
        _outOfMemory |= _cgroup.OutOfMemory();
        _socket.Dispose();
        await _cgroup.KillAndRemoveAsync().ConfigureAwait(false); // sentry, gofer and stubs: the sandbox ends here
        var stuck = !await ExitedWithin(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (stuck)
        {
            GvisorDriver.KillQuietly(_process);
            await ExitedWithin(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        _exitCode = _process.HasExited ? _process.ExitCode : null;
        // `runsc run` cleans up after a sandbox that died; only if it was killed itself is its state left behind.
        if (stuck) await Task.Run(() => _runsc.DeleteForce(Id)).ConfigureAwait(false);
        _process.Dispose();
        GvisorDriver.TryDeleteDir(_workerDir);
        GvisorDriver.TryDeleteDir(_bundleDir);
        if (_codeSlot is not null) GvisorDriver.TryDeleteDir(_codeSlot);
    }

    private async Task<bool> ExitedWithin(TimeSpan wait)
    {
        await Exited.WaitAsync(wait).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        return Exited.IsCompleted;
    }
}
