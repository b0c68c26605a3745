using System.Text.Json;
using Tern.Core.Executions;
using Tern.Core.Functions;
using Tern.Core.Invocations;
using Tern.Invocation.Async;
using Tern.Storage;

namespace Tern.Invocation;

/// <summary>The front door for calls: sync invoke and async enqueue both leave an execution record. An async call is
/// committed to the store before it is acknowledged, so an accepted call survives a crash.</summary>
public sealed class InvocationService(
    IFunctionStore functions, IExecutionStore executions, FunctionInvoker invoker, AsyncDispatcher dispatcher, TimeProvider time)
{
    /// <summary>Runs a call now and records it (running, then its outcome).</summary>
    public async Task<InvocationResult> InvokeAsync(string function, JsonElement input, InvocationOptions options, CancellationToken ct)
    {
        var definition = await functions.GetAsync(function, ct).ConfigureAwait(false) ?? throw new FunctionNotFoundException(function);
        var record = NewRecord(definition.Name, input, options, async: false) with
        {
            Status = ExecutionStatus.Running, StartedAt = time.GetUtcNow(),
        };
        await executions.InsertAsync(record, ct).ConfigureAwait(false);
        InvocationResult result;
        try
        {
            result = await invoker.InvokeAsync(new InvocationRequest(function, input, options.TraceId, record.ExecutionId, options.TraceParent),
                CancellationToken.None).ConfigureAwait(false); // the run finishes and is recorded even if the caller leaves
        }
        catch (Exception e)
        {
            await executions.UpdateAsync(record with
            {
                Status = ExecutionStatus.Error, FinishedAt = time.GetUtcNow(), Error = new InvocationError("PlatformError", e.Message),
            }, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        await executions.UpdateAsync(record with
        {
            Status = result.Status, Output = result.Output, Error = result.Error, FinishedAt = time.GetUtcNow(),
            DurationMs = result.DurationMs, ColdStart = result.ColdStart,
        }, CancellationToken.None).ConfigureAwait(false);
        return result;
    }

    /// <summary>Accepts an async call: checks the queue bound, commits the record, queues it. Throws QueueFullException.</summary>
    public async Task<ExecutionRecord> EnqueueAsync(string function, JsonElement input, InvocationOptions options, CancellationToken ct)
    {
        var definition = await functions.GetAsync(function, ct).ConfigureAwait(false) ?? throw new FunctionNotFoundException(function);
        dispatcher.Reserve(definition);
        var record = NewRecord(definition.Name, input, options, async: true);
        try
        {
            await executions.InsertAsync(record, ct).ConfigureAwait(false);
        }
        catch
        {
            dispatcher.Release(definition.Name);
            throw;
        }
        dispatcher.Enqueue(record, reserved: true);
        return record;
    }

    public Task<ExecutionRecord?> GetAsync(string executionId, CancellationToken ct) => executions.GetAsync(executionId, ct);

    public async Task<IReadOnlyList<ExecutionRecord>> DeadLettersAsync(string function, int limit, CancellationToken ct)
    {
        _ = await functions.GetAsync(function, ct).ConfigureAwait(false) ?? throw new FunctionNotFoundException(function);
        return await executions.ListDeadLettersAsync(function, limit, ct).ConfigureAwait(false);
    }

    /// <summary>Runs a dead letter again with a fresh retry budget; same executionId. Null if there is no such dead letter.</summary>
    public async Task<ExecutionRecord?> RedriveAsync(string executionId, CancellationToken ct)
    {
        var record = await executions.GetAsync(executionId, ct).ConfigureAwait(false);
        if (record is not { DeadLetter: true }) return null;
        var again = record with
        {
            Status = ExecutionStatus.Queued, Attempt = 1, DeadLetter = false, Output = null, Error = null,
            StartedAt = null, FinishedAt = null, DurationMs = null, NotBefore = null,
        };
        await executions.UpdateAsync(again, ct).ConfigureAwait(false);
        dispatcher.Enqueue(again, reserved: false);
        return again;
    }

    private ExecutionRecord NewRecord(string function, JsonElement input, InvocationOptions options, bool async) => new()
    {
        ExecutionId = FunctionInvoker.NewExecutionId(), Function = function, Status = ExecutionStatus.Queued, Async = async,
        Input = input.GetRawText(), CreatedAt = time.GetUtcNow(), TraceId = options.TraceId, TraceParent = options.TraceParent,
        CallbackUrl = options.CallbackUrl,
    };
}
