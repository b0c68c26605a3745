using Tern.Core.Code;
using Tern.Agent.Protocol;
using Tern.Drivers;
using Tern.Drivers.Transport;

namespace Tern.Testing.FakeDriver;

/// <summary>A worker of <see cref="FakeDriver"/>: the host gets one end of an in-memory connection, a
/// <see cref="FakeAgent"/> serves the other. "The process" is the agent loop: <see cref="Exited"/> completes when it
/// ends, whether the host stopped it, a test crashed it or the host sent Stop.</summary>
public sealed class FakeWorker : IWorker
{
    private readonly InMemoryConnection _agentEnd;
    private readonly CancellationTokenSource _kill = new();
    private int _stopped;
    private int _execs;
    private int _pings;

    internal FakeWorker(FakeDriver driver, WorkerSpec spec)
    {
        Driver = driver;
        Spec = spec;
        Code = spec.Code;
        Limits = spec.Limits;
        (var host, _agentEnd) = InMemoryConnection.CreatePair();
        Stream = host;
        Exited = new FakeAgent(this, _agentEnd).RunAsync(_kill.Token);
    }

    public string Id => Spec.WorkerId;
    public WorkerSpec Spec { get; }
    public FakeDriver Driver { get; }
    public Stream Stream { get; }
    public Task Exited { get; }

    /// <summary>The spec's code, or for a template the code it was assigned later.</summary>
    public CodeRef? Code { get; private set; }

    /// <summary>The spec's limits, or for a template the limits it was assigned later.</summary>
    public WorkerLimits Limits { get; private set; }

    /// <summary>The Init the host sent, once it has.</summary>
    public InitMessage? Init { get; internal set; }

    /// <summary>While true the agent reads pings but never answers them (a hung worker).</summary>
    public bool HangPings { get; set; }

    /// <summary>What <see cref="DiagnoseAsync"/> reports (for example an OOM kill after a crash).</summary>
    public WorkerDiagnostics Diagnostics { get; set; } = new(OutOfMemory: false, ExitCode: null, StderrTail: null);

    public int ExecCount => Volatile.Read(ref _execs);
    public int PingCount => Volatile.Read(ref _pings);

    /// <summary>The host stopped this worker (disposed or killed it).</summary>
    public bool Stopped => Volatile.Read(ref _stopped) == 1;

    public ValueTask<WorkerDiagnostics> DiagnoseAsync() => ValueTask.FromResult(Diagnostics);

    public ValueTask AssignAsync(CodeRef code, WorkerLimits limits, CancellationToken ct)
    {
        if (Code is not null) throw new NotSupportedException("this worker already has code");
        ct.ThrowIfCancellationRequested();
        Code = code;
        Limits = limits;
        return ValueTask.CompletedTask;
    }

    /// <summary>The worker dies on its own: the agent stops and the host's end of the connection reads end-of-stream.</summary>
    public void Crash() => _kill.Cancel();

    public ValueTask KillAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0) Driver.RecordStop();
        Crash();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        await Exited.ConfigureAwait(false);
        await Stream.DisposeAsync().ConfigureAwait(false);
    }

    internal void CountExec(ExecMessage exec)
    {
        Interlocked.Increment(ref _execs);
        Driver.RecordExec(this, exec);
    }

    internal void CountPing() => Interlocked.Increment(ref _pings);
}
