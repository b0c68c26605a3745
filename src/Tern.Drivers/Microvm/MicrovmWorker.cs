using System.Net.Sockets;
using Tern.Core.Code;

namespace Tern.Drivers.Microvm;

/// <summary>A running microVM: the agent is PID 1 of the guest, reached over the virtio-serial port's host socket.
/// Killing the worker kills QEMU; the VM is gone when QEMU is.</summary>
internal sealed class MicrovmWorker : IWorker
{
    private readonly VmInstance _vm;
    private readonly Socket _socket;
    private readonly Lazy<Task> _teardown;

    public MicrovmWorker(string id, VmInstance vm, Socket socket, bool restored, double startSeconds)
    {
        StartSeconds = startSeconds;
        Id = id;
        _vm = vm;
        _socket = socket;
        Restored = restored;
        Stream = new NetworkStream(socket, ownsSocket: false);
        _teardown = new(TeardownAsync);
    }

    public string Id { get; }
    public Stream Stream { get; }
    public Task Exited => _vm.Exited;

    /// <summary>Whether this VM came from a snapshot rather than a cold boot.</summary>
    public bool Restored { get; }

    /// <summary>Launch until the agent answered, in seconds.</summary>
    public double StartSeconds { get; }

    /// <summary>How the guest's clock was set to the host's when it started.</summary>
    public GuestClockSync.Result? Clock { get; init; }

    internal VmInstance Vm => _vm;

    public ValueTask<WorkerDiagnostics> DiagnoseAsync()
    {
        var console = _vm.ConsoleTail();
        var exitCode = _vm.Process.HasExited ? _vm.Process.ExitCode : (int?)null;
        // The guest's kernel reports an OOM kill on its console (the whole VM is the function's memory).
        var oom = console.Contains("Out of memory", StringComparison.Ordinal) || console.Contains("oom-kill", StringComparison.Ordinal);
        var tail = string.Join("\n", new[] { _vm.Stderr.Text, console }.Where(s => s.Length > 0));
        return ValueTask.FromResult(new WorkerDiagnostics(oom, exitCode, tail.Length > 0 ? tail : null));
    }

    public ValueTask AssignAsync(CodeRef code, WorkerLimits limits, CancellationToken ct) =>
        throw new NotSupportedException("microVM workers are started with their code (no templates)");

    public ValueTask KillAsync() => new(_teardown.Value);

    public ValueTask DisposeAsync() => KillAsync();

    private async Task TeardownAsync()
    {
        _socket.Dispose();
        MicrovmDriver.KillQuietly(_vm.Process);
        await _vm.Exited.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        _vm.Process.Dispose();
        MicrovmDriver.TryDeleteDir(_vm.Launch.Dir);
    }
}
