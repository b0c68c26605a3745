using System.Diagnostics;
using System.Net.Sockets;
using Tern.Core.Code;
using Tern.Drivers.Cgroups;
using Tern.Drivers.Sandbox.Uids;

namespace Tern.Drivers.Sandbox;

/// <summary>A running bubblewrap worker. Killing it kills its whole cgroup, so no descendant outlives it; only then is its
/// uid given back for another worker.</summary>
internal sealed class SandboxWorker : IWorker, IHandoffWorker
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
    private Socket? _listener; // the agent's socket, kept for the one handoff connection

    /// <param name="mount">Finds an assigned package on this host (a template worker's code comes later).</param>
    public SandboxWorker(string id, Process process, Socket socket, IWorkerCgroup cgroup, string workerDir, string? codeSlot, StderrTail stderr,
        WorkerUid? uid, Func<CodeRef, CodeMount> mount, IAsyncDisposable? network = null, Socket? listener = null)
    {
        _listener = listener;
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

    public async Task<int[]> ReceiveHandlerPipesAsync(TimeSpan timeout, CancellationToken ct)
    {
        var listener = Interlocked.Exchange(ref _listener, null) ?? throw new IOException("this worker's handoff was already taken");
        using (listener)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new IOException($"the agent did not hand over the handler's pipes within {timeout.TotalSeconds:0} s");
            }
            using (connection)
            {
                // Only this worker's agent may hand pipes in: anyone else who reached the socket could answer its calls.
                var peerUid = PeerUid(connection);
                var expected = _uid?.Value ?? Posix.geteuid();
                if (peerUid != expected) throw new IOException($"a handoff came from uid {peerUid}, not the worker's {expected}");
                connection.ReceiveTimeout = (int)timeout.TotalMilliseconds;
                var fds = await Task.Run(() => Tern.Agent.Protocol.LineProtocol.DescriptorPassing.Receive(connection, 3), ct).ConfigureAwait(false);
                if (fds.Length != 3)
                {
                    foreach (var fd in fds) _ = Posix.close(fd);
                    throw new IOException($"the agent handed over {fds.Length} descriptors, not 3");
                }
                return fds;
            }
        }
    }

    /// <summary>SO_PEERCRED: the uid of the process at the other end of a Unix socket.</summary>
    private static uint PeerUid(Socket connection)
    {
        Span<byte> credentials = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        connection.GetRawSocketOption(1, 17, credentials); // SOL_SOCKET, SO_PEERCRED
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(credentials[4..]);
    }

    public ValueTask KillAsync() => new(_teardown.Value);

    public ValueTask DisposeAsync() => KillAsync();

    private int? ExitCodeIfExited() => _process.HasExited ? _process.ExitCode : null;

    private async Task TeardownAsync()
    {
        _outOfMemory |= _cgroup.OutOfMemory();
        _processLimit |= _cgroup.ProcessLimitReached();
        _socket.Dispose();
        Interlocked.Exchange(ref _listener, null)?.Dispose();
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
