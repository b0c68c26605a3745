using System.Collections.Concurrent;
using Tern.Agent.Protocol;
using Tern.Drivers;
using Tern.Drivers.Transport;

namespace Tern.Testing.FakeDriver;

/// <summary>An isolation driver whose workers live in memory: each is a <see cref="FakeAgent"/> loop speaking the real
/// agent protocol over an <see cref="InMemoryConnection"/>. Pools, invocation and the API use it like any driver, so
/// their tests run without sandboxes and (with a FakeTimeProvider) in milliseconds.
/// <para>Everything it does is scriptable through its properties, read at the moment they matter, so a test may change
/// them between calls. It is also the smallest complete driver: a new driver is this folder's worth of code plus one
/// registration (<see cref="FakeDriverServices"/>); nothing in Pools, Invocation or Api changes.</para></summary>
public sealed class FakeDriver(TimeProvider? time = null, string name = FakeDriver.DefaultName, bool supportsTemplates = true) : IIsolationDriver
{
    public const string DefaultName = "fake";

    private readonly ConcurrentQueue<FakeWorker> _workers = new();
    private readonly ConcurrentQueue<FakeExec> _execs = new();
    private int _starts;
    private int _stops;

    public string Name { get; } = name;
    public bool SupportsTemplates { get; } = supportsTemplates;

    /// <summary>The clock start delays and exec latencies run on (a FakeTimeProvider in tests: they pass when it advances).</summary>
    public TimeProvider Time { get; } = time ?? TimeProvider.System;

    /// <summary>While set and not completed, starts wait for it (to hold many starts in flight at once).</summary>
    public TaskCompletionSource? StartGate { get; set; }

    /// <summary>How long a start takes, on <see cref="Time"/> (counted from the request, gate or not).</summary>
    public TimeSpan StartDelay { get; set; }

    /// <summary>Returns the exception a start fails with (after the gate and delay), or null for a start that succeeds.</summary>
    public Func<WorkerSpec, Exception?>? FailStart { get; set; }

    /// <summary>The agent's answer to Init; an "error" status makes the pool report HandlerInitException.</summary>
    public Func<InitMessage, RespMessage> AnswerInit { get; set; } = _ => new RespMessage { Status = "success" };

    /// <summary>How long each Exec runs before its answer, on <see cref="Time"/>.</summary>
    public TimeSpan ExecLatency { get; set; }

    /// <summary>The answer to an Exec (default: success, echoing the input). Null crashes the worker mid-call: its
    /// connection closes without an answer, as when the handler's process dies.</summary>
    public Func<ExecMessage, RespMessage?> AnswerExec { get; set; } = exec => new RespMessage { Status = "success", Output = exec.Input };

    /// <summary>Start attempts so far (failed ones included).</summary>
    public int Starts => Volatile.Read(ref _starts);

    /// <summary>Workers the host stopped (disposed or killed), each counted once.</summary>
    public int Stops => Volatile.Read(ref _stops);

    /// <summary>Every worker started successfully, in start order.</summary>
    public IReadOnlyList<FakeWorker> Workers => [.. _workers];

    /// <summary>Workers started and not yet gone.</summary>
    public int Running => _workers.Count(w => !w.Exited.IsCompleted);

    /// <summary>Every Exec a worker received, in arrival order, with the time on <see cref="Time"/>.</summary>
    public IReadOnlyList<FakeExec> Execs => [.. _execs];

    public async Task<IWorker> StartWorkerAsync(WorkerSpec spec, CancellationToken ct)
    {
        // The delay's timer is armed before the start is counted: a test that saw the count may advance the clock.
        var delay = StartDelay > TimeSpan.Zero ? Task.Delay(StartDelay, Time, ct) : Task.CompletedTask;
        Interlocked.Increment(ref _starts);
        if (StartGate is { } gate) await gate.Task.WaitAsync(ct).ConfigureAwait(false);
        await delay.ConfigureAwait(false);
        if (FailStart?.Invoke(spec) is { } failure) throw failure;
        var worker = new FakeWorker(this, spec);
        _workers.Enqueue(worker);
        return worker;
    }

    internal void RecordExec(FakeWorker worker, ExecMessage exec) => _execs.Enqueue(new FakeExec(worker.Id, exec.RequestId, Time.GetUtcNow()));

    internal void RecordStop() => Interlocked.Increment(ref _stops);
}

/// <summary>One Exec as the fake agent received it.</summary>
/// <param name="At">The driver's clock when it arrived.</param>
public sealed record FakeExec(string WorkerId, string RequestId, DateTimeOffset At);
