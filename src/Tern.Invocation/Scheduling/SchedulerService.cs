using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tern.Core.Telemetry;
using Tern.Json;
using Tern.Storage;
using Tern.Storage.Schedules;

namespace Tern.Invocation.Scheduling;

/// <summary>Fires due schedules as async calls (InvocationService.EnqueueAsync: a committed execution record, the
/// async queue and its retries). It sleeps until the earliest nextRunAt (or until a schedule changes).
///
/// Per tick the run is claimed first: one compare-and-set UPDATE moves next_run_at to the following time and sets
/// last_run_at, and only the caller whose UPDATE matched enqueues. So a tick fires at most once: a restart, a second
/// pass or a concurrent PATCH cannot fire it twice. The price is that a crash between that commit and the enqueue's
/// commit (two local SQLite writes, microseconds apart) loses that one tick; an enqueue that is refused (queue full,
/// rate limit, function deleted) is logged, kept as the schedule's lastError and counted as a failed run.
///
/// Missed runs: a schedule whose nextRunAt passed while the daemon was down (or busy) fires once when the scheduler
/// sees it, and the next run is computed from now: missed ticks are collapsed into one catch-up run, never replayed
/// one by one, and never silently skipped.
///
/// Daemons sharing a store (Postgres) fire schedules from one of them only, the holder of the leader lock
/// (<see cref="ILeaderLock"/>); the others ask for the lock every few seconds and take over when the leader dies. The
/// leader looks at the store as often, since a schedule changed on another daemon cannot wake it.</summary>
internal sealed partial class SchedulerService(
    IScheduleStore store, InvocationService invocations, TernMetrics metrics, TimeProvider time, ILogger<SchedulerService> logger,
    ILeaderLock? leader = null)
    : BackgroundService
{
    /// <summary>Look again at least this often (a guard against clock jumps; changes wake the loop at once).</summary>
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMinutes(1);
    private const int Batch = 100;

    private readonly ILeaderLock _leader = leader ?? new SoleLeader();
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes the loop: a schedule was created, changed or removed.</summary>
    public void Nudge() => Volatile.Read(ref _signal).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var signal = Volatile.Read(ref _signal);
            try
            {
                var wait = MaxSleep;
                if (await _leader.HoldAsync(stoppingToken).ConfigureAwait(false))
                {
                    await RunDueAsync(stoppingToken).ConfigureAwait(false);
                    var next = await store.NextDueAsync(stoppingToken).ConfigureAwait(false);
                    if (next is { } due) wait = due - time.GetUtcNow();
                }
                if (wait > MaxSleep) wait = MaxSleep;
                if (wait > _leader.RecheckInterval) wait = _leader.RecheckInterval;
                if (wait > TimeSpan.Zero)
                {
                    using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    await Task.WhenAny(Task.Delay(wait, time, cancel.Token), signal.Task).ConfigureAwait(false);
                    cancel.Cancel();
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogLoopFailed(e);
                try { await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
            if (signal.Task.IsCompleted)
                Interlocked.CompareExchange(ref _signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), signal);
        }
    }

    /// <summary>Fires every schedule due now (one pass; a schedule fires at most once per pass).</summary>
    internal async Task RunDueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var due = await store.ListDueAsync(now, Batch, ct).ConfigureAwait(false);
            var fresh = due.Where(s => seen.Add(s.Id)).ToList();
            foreach (var schedule in fresh) await FireAsync(schedule, now, ct).ConfigureAwait(false);
            if (due.Count < Batch || fresh.Count == 0) return;
        }
    }

    private async Task FireAsync(Schedule schedule, DateTimeOffset now, CancellationToken ct)
    {
        var due = schedule.NextRunAt!.Value;
        DateTimeOffset? next = null;
        string? invalid = null;
        try
        {
            var expression = ScheduleExpression.Parse(schedule.Expression);
            var zone = ScheduleService.ResolveZone(schedule.TimeZone);
            next = expression.Next(due, zone);
            if (next <= now) next = expression.Next(now, zone); // missed ticks collapse into this one run
        }
        catch (Exception e) when (e is FormatException or TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            invalid = e.Message; // e.g. a time zone removed from the system: run this once more, then stop
        }
        if (!await store.ClaimAsync(schedule.Id, due, next, now, ct).ConfigureAwait(false)) return;

        var tag = TernMetrics.Function(schedule.Function);
        try
        {
            var record = await invocations.EnqueueAsync(schedule.Function, RawJson.Parse(schedule.Payload),
                new InvocationOptions(Guid.NewGuid().ToString("N")), CancellationToken.None).ConfigureAwait(false);
            metrics.SchedulerRuns.Add(1, tag, new("outcome", "enqueued"));
            await store.RecordRunAsync(schedule.Id, record.ExecutionId, invalid, CancellationToken.None).ConfigureAwait(false);
            LogFired(schedule.Id, schedule.Function, record.ExecutionId, due);
        }
        catch (Exception e)
        {
            metrics.SchedulerRuns.Add(1, tag, new("outcome", "failed"));
            LogFireFailed(schedule.Id, schedule.Function, due, e.Message);
            await store.RecordRunAsync(schedule.Id, null, e.Message, CancellationToken.None).ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "schedule {Id} fired {Function} as {ExecutionId} (due {Due:O})")]
    private partial void LogFired(string id, string function, string executionId, DateTimeOffset due);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "schedule {Id} could not enqueue {Function} (due {Due:O}): {Reason}")]
    private partial void LogFireFailed(string id, string function, DateTimeOffset due, string reason);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Error, Message = "the scheduler loop failed; retrying in 1 s")]
    private partial void LogLoopFailed(Exception exception);
}
