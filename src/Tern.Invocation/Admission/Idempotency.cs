using Microsoft.Extensions.Options;
using Tern.Core.Executions;
using Tern.Core.Invocations;
using Tern.Storage;

namespace Tern.Invocation.Admission;

/// <summary>Idempotency-Key handling. A key is scoped to its function and answers for IdempotencyWindow (24 h) from
/// the creation of the call it started: a repeat within that window gets the same executionId (and, for a sync call,
/// the stored result) and runs nothing.
/// <para>The store keeps a unique (function, idempotency_key) index and does not let a key be taken off a record. So
/// when the record holding a key has outlived the window but is still stored (the janitor removes records only 24 h
/// after they finish), the new call stores the key as <c>key + U+001F + executionId of the expired holder</c>, and a
/// lookup follows that chain. U+001F cannot occur in a key the API accepts (printable ASCII only).</para></summary>
public sealed class Idempotency(IExecutionStore executions, TimeProvider time, IOptions<AdmissionOptions> options)
{
    public const string Header = "Idempotency-Key";
    public const int MaxKeyLength = 200;
    private const char ChainSeparator = '\u001f';
    private const int MaxChain = 8;

    /// <summary>1..200 printable ASCII characters (0x20..0x7E).</summary>
    public static bool IsValidKey(string? key) =>
        key is { Length: > 0 and <= MaxKeyLength } && key.All(c => c is >= ' ' and <= '~');

    /// <summary>The call that already holds this key within the window (Existing), or else the key to store on the new
    /// record (StoredKey).</summary>
    public async Task<(ExecutionRecord? Existing, string StoredKey)> LookupAsync(string function, string key, CancellationToken ct)
    {
        var stored = key;
        var cutoff = time.GetUtcNow() - options.Value.IdempotencyWindow;
        for (var hop = 0; hop < MaxChain; hop++)
        {
            var holder = await executions.FindByIdempotencyKeyAsync(function, stored, ct).ConfigureAwait(false);
            if (holder is null) return (null, stored);
            if (holder.CreatedAt > cutoff) return (holder, stored);
            stored = key + ChainSeparator + holder.ExecutionId; // expired: the next call with this key takes this name
        }
        // Not reachable in practice (eight windows of continuous reuse, none removed); stay correct for the new call.
        return (null, key + ChainSeparator + Guid.NewGuid().ToString("N"));
    }

    /// <summary>After InsertAsync threw DuplicateIdempotencyKeyException: the concurrent call that won the key.</summary>
    public async Task<ExecutionRecord> WinnerAsync(string function, string storedKey, CancellationToken ct) =>
        await executions.FindByIdempotencyKeyAsync(function, storedKey, ct).ConfigureAwait(false)
        ?? throw new IdempotencyConflictException("", $"the {Header} was taken by a concurrent call that is gone again; retry");

    /// <summary>The stored outcome of a replayed sync call. A call still queued or running is polled until it finishes,
    /// for at most timeoutMs + ReplayWaitGrace; then IdempotencyConflictException (409).</summary>
    public async Task<InvocationResult> ResultAsync(ExecutionRecord record, int timeoutMs, CancellationToken ct)
    {
        var deadline = time.GetUtcNow() + TimeSpan.FromMilliseconds(timeoutMs) + options.Value.ReplayWaitGrace;
        while (!ExecutionStatus.IsTerminal(record.Status))
        {
            if (time.GetUtcNow() >= deadline)
                throw new IdempotencyConflictException(record.ExecutionId,
                    $"the call with this {Header} (execution {record.ExecutionId}) is still {record.Status}; poll GET /v1/executions/{record.ExecutionId}");
            await Task.Delay(options.Value.ReplayPollInterval, time, ct).ConfigureAwait(false);
            record = await executions.GetAsync(record.ExecutionId, ct).ConfigureAwait(false)
                ?? throw new IdempotencyConflictException(record.ExecutionId, $"execution {record.ExecutionId} disappeared while being replayed");
        }
        return new InvocationResult
        {
            ExecutionId = record.ExecutionId, Status = record.Status, Output = record.Output, Error = record.Error,
            DurationMs = record.DurationMs ?? 0, ColdStart = record.ColdStart,
        };
    }
}
