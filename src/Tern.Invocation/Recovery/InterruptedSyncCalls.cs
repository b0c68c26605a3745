using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tern.Core.Executions;
using Tern.Core.Invocations;
using Tern.Storage;

namespace Tern.Invocation.Recovery;

/// <summary>At start, before the API serves anything: sync calls that a crash cut short are still recorded as
/// running, though their callers are long gone. Each is finished as an error (<c>Interrupted</c>: it may or may not
/// have run to its end), and its Idempotency-Key is released, so the caller's retry with the same key runs the call
/// again instead of waiting for, and replaying, a run that will never end. (Async calls are resumed instead: see
/// AsyncDispatcher.)
/// <para>On a store several daemons share (Postgres), a running sync call may be another daemon's, alive: only calls
/// older than their function's timeout plus <see cref="SharedGrace"/> are finished (no live call outlasts its timeout),
/// at start and then every <see cref="SharedSweepEvery"/>, so a dead daemon's calls are finished by a live one.</para></summary>
internal sealed partial class InterruptedSyncCalls(IExecutionStore store, IFunctionStore functions, TimeProvider time,
    ILogger<InterruptedSyncCalls> logger) : IHostedService, IDisposable
{
    public const string ErrorCode = "Interrupted";
    public static readonly TimeSpan SharedGrace = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan SharedSweepEvery = TimeSpan.FromMinutes(1);

    private readonly bool _shared = store is IExecutionLeases;
    private readonly CancellationTokenSource _stopping = new();
    private Task _sweeps = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await SweepAsync(cancellationToken).ConfigureAwait(false);
        if (_shared) _sweeps = SweepEveryAsync(_stopping.Token);
    }

    private async Task SweepEveryAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(SharedSweepEvery, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try { await SweepAsync(ct).ConfigureAwait(false); }
                catch (Exception e) when (e is not OperationCanceledException) { LogSweepFailed(e.Message); } // next tick retries
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        var unfinished = await store.ListUnfinishedSyncAsync(ct).ConfigureAwait(false);
        var finished = 0;
        var timeouts = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var record in unfinished)
        {
            if (_shared && !await IsPastItsTimeoutAsync(record, timeouts, ct).ConfigureAwait(false)) continue;
            await store.UpdateAsync(record with
            {
                Status = ExecutionStatus.Error, FinishedAt = time.GetUtcNow(),
                Error = new InvocationError(ErrorCode, "the daemon stopped while this call ran, so it may or may not have run to its end; retry it"),
            }, ct).ConfigureAwait(false);
            if (record.IdempotencyKey is not null) await store.ReleaseIdempotencyKeyAsync(record.ExecutionId, ct).ConfigureAwait(false);
            finished++;
        }
        if (finished > 0) LogInterrupted(finished);
    }

    private async Task<bool> IsPastItsTimeoutAsync(ExecutionRecord record, Dictionary<string, TimeSpan> timeouts, CancellationToken ct)
    {
        if (!timeouts.TryGetValue(record.Function, out var timeout))
        {
            // A deleted function's calls get the longest timeout any function may have.
            var function = await functions.GetAsync(record.Function, ct).ConfigureAwait(false);
            timeouts[record.Function] = timeout = TimeSpan.FromMilliseconds(function?.TimeoutMs ?? Core.Functions.FunctionLimits.MaxTimeoutMs);
        }
        return (record.StartedAt ?? record.CreatedAt) + timeout + SharedGrace < time.GetUtcNow();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sweeps.ConfigureAwait(false);
    }

    public void Dispose() => _stopping.Dispose();

    [LoggerMessage(EventId = 220, Level = LogLevel.Warning, Message = "{Count} sync calls were cut short by a stop; their records now say Interrupted")]
    private partial void LogInterrupted(int count);

    [LoggerMessage(EventId = 221, Level = LogLevel.Warning, Message = "sweeping sync calls cut short by a stopped daemon failed ({Error}); tried again in a minute")]
    private partial void LogSweepFailed(string error);
}
