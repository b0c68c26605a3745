using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tern.Agent.Protocol;
using Tern.Core.Functions;
using Tern.Core.Invocations;
using Tern.Core.Telemetry;
using Tern.Invocation.Logs;
using Tern.Drivers;
using Tern.Pools;
using Tern.Storage;

namespace Tern.Invocation;

/// <summary>Runs one call: look the function up, take a slot on a warm worker from its pool (starting one if it must),
/// Exec over the agent protocol, and turn whatever happens into an InvocationResult. Handler failures are results;
/// platform failures (no worker could start, no capacity) are exceptions the API maps to problems.</summary>
internal sealed partial class FunctionInvoker(VersionResolver versions, PoolManager pools, TernMetrics metrics, ILogger<FunctionInvoker> logger,
    ExecutionLogs logs)
{
    /// <summary>Time the host allows beyond the function's timeout for the agent to report it before the worker is killed.</summary>
    private static readonly TimeSpan TimeoutGrace = TimeSpan.FromSeconds(2);

    public async Task<InvocationResult> InvokeAsync(InvocationRequest request, CancellationToken ct)
    {
        var target = request.Target ?? await versions.ResolveAsync(request.FunctionName, request.Qualifier, ct).ConfigureAwait(false);
        var function = target.Definition;
        var executionId = request.ExecutionId ?? NewExecutionId();
        var started = Stopwatch.GetTimestamp();
        var pool = pools.GetPool(function, target.PoolKey, target.Label);
        var tag = TernMetrics.Function(function.Name);
        using var span = TernTracing.StartInvocation(function.Name, executionId, request.TraceParent);
        metrics.InFlight.Add(1, tag);
        InvocationResult result;
        try
        {
            WorkerLease? lease = null;
            InvocationResult? loadFailure = null;
            try
            {
                lease = await pool.AcquireAsync(ct).ConfigureAwait(false);
            }
            catch (HandlerInitException e)
            {
                loadFailure = LoadFailed(e, executionId, started, target.Label);
            }
            result = loadFailure ?? await RunOnAsync(lease!, pool, function, request, executionId, started, target.Label, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (span is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
        finally
        {
            metrics.InFlight.Add(-1, tag);
        }
        metrics.Invocations.Add(1, tag, new("status", result.Status));
        (result.ColdStart ? metrics.ColdStarts : metrics.WarmStarts).Add(1, tag);
        metrics.Duration.Record(result.DurationMs / 1000, tag);
        logs.Record(function.Name, result); // the handler's output, kept with the execution (sync and async)
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("tern.status", result.Status);
            span.SetTag("tern.cold_start", result.ColdStart);
            span.SetTag("tern.version", result.Version);
            if (result.Status != InvocationStatus.Success) span.SetStatus(ActivityStatusCode.Error, result.Error?.Code);
        }
        return result;
    }

    /// <summary>The call's result when the worker it needed could not load the handler.</summary>
    private static InvocationResult LoadFailed(HandlerInitException e, string executionId, long started, string version) => new()
    {
        ExecutionId = executionId, Status = InvocationStatus.Error, ColdStart = true, Version = version,
        DurationMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds, Error = new(e.Code, e.Message),
    };

    /// <summary>Runs the call on its leased slot and gives the slot back (retiring the worker if the call left it in
    /// doubt). One async frame for the whole exchange with the worker: on the hot path every frame is an allocation.</summary>
    private async ValueTask<InvocationResult> RunOnAsync(WorkerLease lease, WorkerPool pool, FunctionDefinition function,
        InvocationRequest request, string executionId, long started, string version, CancellationToken ct)
    {
        var healthy = false;
        try
        {
            metrics.QueueWait.Record(lease.Waited.TotalSeconds, TernMetrics.Function(function.Name));
            RespMessage? resp = null;
            string? failure = null;
            try
            {
                var exec = new ExecMessage
                {
                    RequestId = executionId, Input = request.Input, TimeoutMs = function.TimeoutMs, TraceId = request.TraceId,
                    TraceParent = request.TraceParent,
                };
                resp = await lease.Worker.ExecAsync(exec, TimeSpan.FromMilliseconds(function.TimeoutMs) + TimeoutGrace, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                failure = InvocationError.Timeout;
            }
            catch (FrameTooLargeException e)
            {
                failure = InvocationError.PayloadTooLarge;
                resp = new RespMessage { Status = InvocationStatus.Error, Error = new AgentError { Code = InvocationError.PayloadTooLarge, Message = e.Message } };
            }
            catch (AgentLostException e)
            {
                failure = InvocationError.WorkerCrashed;
                LogWorkerLost(function.Name, executionId, e.Message);
            }
            var result = await ClassifyAsync(executionId, function, resp, failure, lease, started, version).ConfigureAwait(false);
            healthy = IsWorkerHealthy(result, failure);
            return result;
        }
        finally
        {
            pool.Release(lease, healthy);
        }
    }

    /// <summary>Time-ordered, so records sort by creation.</summary>
    public static string NewExecutionId() => Guid.CreateVersion7().ToString();

    /// <summary>Recycle a worker after anything that may have left it in a bad state; a handler's own error does not.</summary>
    private static bool IsWorkerHealthy(InvocationResult result, string? failure) =>
        failure is null or InvocationError.PayloadTooLarge
        && result.Error?.Code is not (InvocationError.Timeout or InvocationError.OutOfMemory or InvocationError.WorkerCrashed
            or InvocationError.HandlerCrashed or InvocationError.OutputTooLarge or InvocationError.ProcessLimit);

    /// <summary>The call's result. The worker is asked what happened (an OOM kill, its last stderr) only when the call
    /// did not succeed.</summary>
    private static async ValueTask<InvocationResult> ClassifyAsync(string executionId, FunctionDefinition f, RespMessage? resp, string? failure,
        WorkerLease lease, long started, string version)
    {
        var durationMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (resp is { Status: InvocationStatus.Success })
            return new InvocationResult
            {
                ExecutionId = executionId, Status = InvocationStatus.Success, Output = resp.Output, ColdStart = lease.ColdStart,
                Version = version, DurationMs = durationMs, StdoutTail = resp.StdoutTail, StderrTail = resp.StderrTail,
            };
        var diagnosis = await lease.Worker.DiagnoseAsync().ConfigureAwait(false);
        var (status, error) = Failure(f, resp, failure, diagnosis);
        return new InvocationResult
        {
            ExecutionId = executionId, Status = status, Error = error, ColdStart = lease.ColdStart, Version = version,
            DurationMs = durationMs, StdoutTail = resp?.StdoutTail, StderrTail = resp?.StderrTail,
        };
    }

    /// <summary>A timeout is reported as one even when the run also hit a limit (a fork bomb runs out of processes and
    /// memory, then out of time): the limits are added to the message. Otherwise an OOM kill, then the process limit,
    /// explain a failure better than its own message.</summary>
    private static (string Status, InvocationError Error) Failure(FunctionDefinition f, RespMessage? resp, string? failure, WorkerDiagnostics diagnosis)
    {
        if (failure == InvocationError.Timeout || resp?.Status == InvocationStatus.Timeout)
        {
            var limits = (diagnosis.ProcessLimitReached ? $"; it had reached its limit of {WorkerLimits.DefaultMaxPids} processes" : "")
                + (diagnosis.OutOfMemory ? $"; it had run out of its {f.MemoryMb} MB of memory" : "");
            return (InvocationStatus.Timeout, new(InvocationError.Timeout, $"function exceeded its timeout of {f.TimeoutMs} ms and was killed{limits}"));
        }
        if (diagnosis.OutOfMemory)
            return (InvocationStatus.Error, new(InvocationError.OutOfMemory, $"function exceeded its memory limit of {f.MemoryMb} MB and was killed"));
        if (diagnosis.ProcessLimitReached && resp?.Status != InvocationStatus.Success)
            return (InvocationStatus.Error, new(InvocationError.ProcessLimit,
                $"function reached its limit of {WorkerLimits.DefaultMaxPids} processes and threads" + Suffix(resp?.Error?.Message)));
        if (resp is null)
            return (InvocationStatus.Error, new(InvocationError.WorkerCrashed, "the worker stopped before answering" + Suffix(diagnosis.StderrTail)));
        return (InvocationStatus.Error, resp.Error is { } e
            ? new(e.Code, e.Message) { ErrorType = e.ErrorType, ErrorMessage = e.ErrorMessage, StackTrace = e.StackTrace }
            : new(InvocationError.HandlerFailed, "handler failed"));
    }

    private static string Suffix(string? text) => string.IsNullOrWhiteSpace(text) ? "" : ": " + text;

    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "worker for {Function} lost during {ExecutionId}: {Reason}")]
    private partial void LogWorkerLost(string function, string executionId, string reason);
}
