using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tern.Agent.Protocol;
using Tern.Core.Functions;
using Tern.Core.Invocations;
using Tern.Drivers;
using Tern.Storage;

namespace Tern.Invocation;

/// <summary>Runs one call: look the function up, get a worker from its isolation driver, Init and Exec over the
/// agent protocol, and turn whatever happens into an InvocationResult. Handler failures are results; only platform
/// failures (no worker could start) are exceptions.</summary>
public sealed partial class FunctionInvoker(IFunctionStore store, ICodeStore codeStore, DriverRegistry drivers, ILogger<FunctionInvoker> logger)
{
    /// <summary>Time the host allows beyond the function's timeout for the agent to report it before the worker is killed.</summary>
    private static readonly TimeSpan TimeoutGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan InitTimeout = TimeSpan.FromSeconds(10);

    public async Task<InvocationResult> InvokeAsync(InvocationRequest request, CancellationToken ct)
    {
        var function = await store.GetAsync(request.FunctionName, ct).ConfigureAwait(false)
            ?? throw new FunctionNotFoundException(request.FunctionName);
        var executionId = Guid.CreateVersion7().ToString();
        var started = Stopwatch.GetTimestamp();

        var spec = new WorkerSpec
        {
            WorkerId = executionId,
            FunctionName = function.Name,
            Code = codeStore.GetMount(function.CodeHash, function.CodeFileName),
            MemoryMb = function.MemoryMb,
            Vcpus = function.Vcpus,
        };
        await using var worker = await drivers.Get(function.Isolation).StartWorkerAsync(spec, ct).ConfigureAwait(false);
        await using var agent = new AgentClient(worker.Stream);

        RespMessage? resp = null;
        string? failure = null;
        try
        {
            await agent.InitAsync(InitFor(function), InitTimeout, ct).ConfigureAwait(false);
            var exec = new ExecMessage { RequestId = executionId, Input = request.Input, TimeoutMs = function.TimeoutMs, TraceId = request.TraceId };
            resp = await agent.ExecAsync(exec, TimeSpan.FromMilliseconds(function.TimeoutMs) + TimeoutGrace, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            failure = InvocationError.Timeout;
        }
        catch (AgentLostException e)
        {
            failure = InvocationError.WorkerCrashed;
            LogWorkerLost(function.Name, executionId, e.Message);
        }
        // Process mode: the worker served its call; killing it also ends anything the handler left behind.
        await worker.KillAsync().ConfigureAwait(false);
        var diagnostics = worker.Diagnose();
        var durationMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return Classify(executionId, function, resp, failure, diagnostics, durationMs);
    }

    private static InvocationResult Classify(string executionId, FunctionDefinition f, RespMessage? resp, string? failure,
        WorkerDiagnostics diagnostics, double totalMs)
    {
        var result = new InvocationResult { ExecutionId = executionId, Status = InvocationStatus.Error, ColdStart = true, DurationMs = totalMs };
        if (diagnostics.OutOfMemory && resp?.Status != "success")
            return result with { Error = new(InvocationError.OutOfMemory, $"function exceeded its memory limit of {f.MemoryMb} MB and was killed") };
        if (failure == InvocationError.Timeout || resp?.Status == InvocationStatus.Timeout)
            return result with { Status = InvocationStatus.Timeout, Error = new(InvocationError.Timeout, $"function exceeded its timeout of {f.TimeoutMs} ms and was killed") };
        if (resp is null)
            return result with { Error = new(InvocationError.WorkerCrashed, "the worker stopped before answering" + Suffix(diagnostics.StderrTail)) };
        if (resp.Status == InvocationStatus.Success)
            return result with { Status = InvocationStatus.Success, Output = resp.Output };
        return result with { Error = new(resp.Error?.Code ?? InvocationError.HandlerFailed, resp.Error?.Message ?? "handler failed") };
    }

    private static string Suffix(string? text) => string.IsNullOrWhiteSpace(text) ? "" : ": " + text;

    private static InitMessage InitFor(FunctionDefinition f) => new()
    {
        Runtime = f.Runtime, Handler = f.Handler, Env = new(f.Env), Mode = f.Mode, FunctionName = f.Name,
        Version = f.Version, MemoryMb = f.MemoryMb, TimeoutMs = f.TimeoutMs, InstanceConcurrency = f.InstanceConcurrency,
    };

    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "worker for {Function} lost during {ExecutionId}: {Reason}")]
    private partial void LogWorkerLost(string function, string executionId, string reason);
}
