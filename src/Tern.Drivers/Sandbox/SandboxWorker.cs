using System.Diagnostics;
using System.Net.Sockets;
using Tern.Core.Code;
using Tern.Drivers.Cgroups;
using Tern.Drivers.Sandbox.Uids;

namespace Tern.Drivers.Sandbox;

/// <summary>A running bubblewrap worker. Killing it kills its whole cgroup, so no descendant outlives it; only then is its
/// uid given back for another worker.</summary>
internal sealed class SandboxWorker : IWorker
{
    private readonly Process _process;
    private readonly Socket _socket;
    private readonly IWorkerCgroup _cgroup;
    private readonly string _workerDir;
    private readonly string? _codeSlot;
    private bool _assigned;
    private readonly StderrTail _stderr;
    private readonly Lazy<Task> _teardown;
    private bool _outOfMemory;
    private bool _processLimit;
    private int? _exitCode;
    private readonly WorkerUid? _uid;

    private readonly Func<CodeRef, CodeMount> _mount;
    private readonly IAsyncDisposable? _network;

    /// <param name="mount">Finds an assigned package on this host (a template worker's code comes later).</param>
    public SandboxWorker(string id, Process process, Socket socket, IWorkerCgroup cgroup, string workerDir, string? codeSlot, StderrTail stderr,
        WorkerUid? uid, Func<CodeRef, CodeMount> mount, IAsyncDisposable? network = null)
    {
        _network = network;
        _mount = mount;
        _uid = uid;
        Id = id;
        _process = process;
        _socket = socket;
        _cgroup = cgroup;
        _workerDir = workerDir;
        _codeSlot = codeSlot;
        _stderr = stderr;
        Stream = new NetworkStream(socket, ownsSocket: false);
        Exited = process.WaitForExitAsync();
        _teardown = new(TeardownAsync);
    }

    public string Id { get; }
    public Stream Stream { get; }
    public Task Exited { get; }

    public ValueTask<WorkerDiagnostics> DiagnoseAsync()
    {
        // Read before teardown removes the cgroup; remember it after.
        if (!_teardown.IsValueCreated)
        {
            _outOfMemory |= _cgroup.OutOfMemory();
            _processLimit |= _cgroup.ProcessLimitReached();
        }
        return ValueTask.FromResult(new WorkerDiagnostics(_outOfMemory, _teardown.IsValueCreated ? _exitCode : ExitCodeIfExited(), _stderr.Text, _processLimit));
    }

    /// <summary>Hard-links the package into the slot mounted at /code, and its precompiled modules into the one mounted at
    /// /opt/tern/compiled (copies across file systems), and applies the limits.</summary>
    public ValueTask AssignAsync(CodeRef code, WorkerLimits limits, CancellationToken ct)
    {
        if (_codeSlot is null || _assigned) throw new NotSupportedException("only an unassigned template worker can be given code");
        ct.ThrowIfCancellationRequested();
        _assigned = true;
        var mount = _mount(code);
        CodeSlot.Fill(_codeSlot, mount);
        CodeSlot.FillCompiled(BubblewrapCommandLine.CompiledSlot(_codeSlot), mount);
        _cgroup.SetLimits(CgroupLimits.Of(limits));
        return ValueTask.CompletedTask;
    }

    public ValueTask KillAsync() => new(_teardown.Value);

    public ValueTask DisposeAsync() => KillAsync();

    private int? ExitCodeIfExited() => _process.HasExited ? _process.ExitCode : null;

    private async Task TeardownAsync()
    {
        _outOfMemory |= _cgroup.OutOfMemory();
        _processLimit |= _cgroup.ProcessLimitReached();
        _socket.Dispose();
        BubblewrapDriver.KillQuietly(_process);
        await _cgroup.KillAndRemoveAsync().ConfigureAwait(false);
        await Exited.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }).ConfigureAwait(false);
        _exitCode = ExitCodeIfExited();
        _process.Dispose();
        if (_network is not null) await _network.DisposeAsync().ConfigureAwait(false);
        _uid?.Dispose();
        BubblewrapDriver.TryDeleteDir(_workerDir);
        if (_codeSlot is not null)
        {
            BubblewrapDriver.TryDeleteDir(_codeSlot);
            BubblewrapDriver.TryDeleteDir(BubblewrapCommandLine.CompiledSlot(_codeSlot));
        }
    }
}
