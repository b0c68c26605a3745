using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Core.Executions;
using Tern.Storage;

namespace Tern.Invocation.Async;

/// <summary>One of several daemons sharing a store (Postgres): a call runs where it is claimed, not where it was
/// accepted. One loop claims due calls (FOR UPDATE SKIP LOCKED: concurrent daemons never get the same row) into the
/// dispatcher's queues, renews the leases of what it holds every third of a lease, and counts the store's backlog for
/// queueSize. It wakes when this daemon accepts a call or finishes one, and otherwise every claimInterval: that poll is
/// how calls accepted by another daemon, retries falling due and calls whose daemon died (lease expired) are found.
/// (A short poll rather than LISTEN/NOTIFY: the accepting daemon wakes itself at once, so the poll only bounds how
/// late an idle daemon helps; it needs no dedicated connection, and a lost connection cannot leave it deaf.)
/// A lease needs no release: the writer's update of a finished or re-queued record clears it.</summary>
internal sealed partial class LeasedWorkSource(IExecutionLeases leases, IOptions<AsyncOptions> options, TimeProvider time,
    ILogger<LeasedWorkSource> logger) : IAsyncWorkSource
{
    /// <summary>At most this many calls per claim; and at most MaxHeld held at once (running or waiting here).</summary>
    private const int ClaimBatch = 32;
    private const int MaxHeld = 512;

    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _acceptedSinceCount = new(StringComparer.Ordinal);
    /// <summary>The functions this daemon admits calls of: the only backlogs it needs to know.</summary>
    private readonly ConcurrentDictionary<string, byte> _admitting = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private IReadOnlyDictionary<string, int> _backlog = new Dictionary<string, int>();
    private int _woken;
    private bool _failing;
    private Task _loop = Task.CompletedTask;
    private IAsyncWorkSink? _sink;

    /// <summary>This process's name in the claimed_by column: host, process id, and a random part (a restarted
    /// daemon must not inherit the leases of its previous life: those expire and are claimed like any other).</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    private TimeSpan Lease => options.Value.LeaseDuration;

    public Task StartAsync(IAsyncWorkSink sink, CancellationToken ct)
    {
        _sink = sink;
        _loop = Task.Run(() => RunAsync(sink, _stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken ct)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try { await _loop.WaitAsync(ct).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        // What is still held (cut short by the stop, or waiting) is left to its lease: another daemon claims it when
        // that runs out, or this one's next life does.
    }

    /// <summary>Wakes the claim loop only when this daemon could take the call now: with the function's queue here
    /// full, a claim would find nothing of it, and scan its whole backlog to learn that.</summary>
    public bool Offer(ExecutionRecord record)
    {
        _acceptedSinceCount.AddOrUpdate(record.Function, 1, (_, n) => n + 1);
        WakeIfRoom(record.Function);
        return false;
    }

    public bool Holds(ExecutionRecord record) => _held.ContainsKey(record.ExecutionId);

    public CancellationToken LeaseLost(ExecutionRecord record)
    {
        var lost = _running.GetOrAdd(record.ExecutionId, _ => new CancellationTokenSource());
        if (!_held.ContainsKey(record.ExecutionId)) lost.Cancel(); // lost between the check and now
        return lost.Token;
    }

    public Task<bool> WriteAsync(ExecutionRecord record, CancellationToken ct) => leases.UpdateIfHeldAsync(Owner, record, ct);

    public bool RetryHere(ExecutionRecord next) => false; // re-queued in the store (lease cleared): whoever is free claims it when due

    public void Ended(ExecutionRecord record)
    {
        _held.TryRemove(record.ExecutionId, out _);
        if (_running.TryRemove(record.ExecutionId, out var lost)) lost.Dispose();
        WakeIfRoom(record.Function);
    }

    public int Waiting(string function, int local)
    {
        _admitting.TryAdd(function, 0); // counted from the next count on (a lock-free lookup once known: once per call)
        return Math.Max(local, _backlog.GetValueOrDefault(function) + _acceptedSinceCount.GetValueOrDefault(function));
    }

    private void WakeIfRoom(string function)
    {
        if (_sink?.HasRoom(function) != false && Interlocked.Exchange(ref _woken, 1) == 0) _wake.Release();
    }

    private async Task RunAsync(IAsyncWorkSink sink, CancellationToken stop)
    {
        var nextRenew = time.GetUtcNow() + Lease / 3;
        var nextCount = time.GetUtcNow();
        while (!stop.IsCancellationRequested)
        {
            Volatile.Write(ref _woken, 0);
            var more = false;
            try
            {
                more = await ClaimAsync(sink, stop).ConfigureAwait(false);
                var now = time.GetUtcNow();
                if (now >= nextRenew)
                {
                    await RenewAsync(stop).ConfigureAwait(false);
                    nextRenew = now + Lease / 3;
                }
                if (now >= nextCount && !_admitting.IsEmpty)
                {
                    await CountAsync(stop).ConfigureAwait(false);
                    nextCount = now + options.Value.ClaimInterval;
                }
                if (_failing) LogStoreBack();
                _failing = false;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (!_failing) LogStoreFailed(e); // once per outage, not once per poll
                _failing = true;
            }
            if (more) continue;
            try
            {
                await _wake.WaitAsync(options.Value.ClaimInterval, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Claims what this daemon has room for; true when there may be more to claim at once.</summary>
    private async Task<bool> ClaimAsync(IAsyncWorkSink sink, CancellationToken stop)
    {
        var room = MaxHeld - _held.Count;
        if (room <= 0) return false;
        var limit = Math.Min(room, ClaimBatch);
        var now = time.GetUtcNow();
        var claimed = await leases.ClaimAsync(Owner, limit, now, now + Lease, sink.Saturated(), stop).ConfigureAwait(false);
        foreach (var record in claimed) _held[record.ExecutionId] = 0;
        await sink.AddAsync(claimed, stop).ConfigureAwait(false);
        // Again at once only for what there is room for: a claim skipping every function found would scan the backlog.
        return claimed.Count == limit && claimed.Any(r => sink.HasRoom(r.Function));
    }

    private async Task RenewAsync(CancellationToken stop)
    {
        var held = _held.Keys.ToList();
        if (held.Count == 0) return;
        var kept = new HashSet<string>(await leases.RenewAsync(Owner, held, time.GetUtcNow() + Lease, stop).ConfigureAwait(false), StringComparer.Ordinal);
        var lost = 0;
        foreach (var id in held)
        {
            if (kept.Contains(id) || !_held.TryRemove(id, out _)) continue;
            lost++;
            if (_running.TryGetValue(id, out var running)) running.Cancel();
        }
        // Finished meanwhile (lease cleared by the final write), or claimed by another daemon after this one stalled
        // past its lease: either way not this daemon's any more (Holds says no): a run here is stopped, its outcome
        // not written.
        if (lost > 0) LogLeasesGone(lost);
    }

    private async Task CountAsync(CancellationToken stop)
    {
        var accepted = _acceptedSinceCount.Keys.ToHashSet(StringComparer.Ordinal);
        _acceptedSinceCount.Clear();
        var backlog = await leases.CountQueuedAsync([.. _admitting.Keys], stop).ConfigureAwait(false);
        // A function with no backlog left and no call accepted since the last count is counted no more until its next call.
        foreach (var (function, _) in _admitting)
            if (backlog.GetValueOrDefault(function) == 0 && !accepted.Contains(function) && !_acceptedSinceCount.ContainsKey(function))
                _admitting.TryRemove(function, out _);
        _backlog = backlog;
    }

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "claiming async calls from the store failed; trying again every claimInterval")]
    private partial void LogStoreFailed(Exception e);

    [LoggerMessage(EventId = 403, Level = LogLevel.Information, Message = "claiming async calls from the store works again")]
    private partial void LogStoreBack();

    [LoggerMessage(EventId = 404, Level = LogLevel.Debug, Message = "{Count} held async calls were no longer leased to this daemon")]
    private partial void LogLeasesGone(int count);
}
