namespace Tern.Storage.Schedules;

/// <summary>A persisted schedule: call <see cref="Function"/> with <see cref="Payload"/> (JSON text) as an async call at
/// every time <see cref="Expression"/> gives, in <see cref="TimeZone"/> (an IANA or system id; null = UTC).
/// <see cref="NextRunAt"/> is null while disabled.</summary>
public sealed record Schedule
{
    public required string Id { get; init; }
    public required string Function { get; init; }
    public required string Expression { get; init; }
    public string? TimeZone { get; init; }
    public string Payload { get; init; } = "{}";
    public bool Enabled { get; init; } = true;
    public DateTimeOffset? NextRunAt { get; init; }
    public DateTimeOffset? LastRunAt { get; init; }
    public string? LastExecutionId { get; init; }
    /// <summary>Why the last due run could not be enqueued (null once one is enqueued).</summary>
    public string? LastError { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

public interface IScheduleStore
{
    Task CreateAsync(Schedule schedule, CancellationToken ct = default);
    Task<Schedule?> GetAsync(string id, CancellationToken ct = default);
    /// <summary>All schedules, or those of one function, oldest first.</summary>
    Task<IReadOnlyList<Schedule>> ListAsync(string? function = null, CancellationToken ct = default);
    /// <summary>Replaces the user-editable fields and next_run_at (or leaves next_run_at as stored, so a run the
    /// scheduler claims meanwhile is not undone). False if there is no such schedule.</summary>
    Task<bool> UpdateAsync(Schedule schedule, bool keepNextRun = false, CancellationToken ct = default);
    Task<bool> DeleteAsync(string id, CancellationToken ct = default);
    /// <summary>Enabled schedules due at or before <paramref name="now"/>, earliest first.</summary>
    Task<IReadOnlyList<Schedule>> ListDueAsync(DateTimeOffset now, int limit, CancellationToken ct = default);
    /// <summary>The earliest next_run_at of an enabled schedule, or null when none is enabled.</summary>
    Task<DateTimeOffset?> NextDueAsync(CancellationToken ct = default);
    /// <summary>Claims one due run: moves next_run_at from <paramref name="expectedNextRunAt"/> to <paramref name="nextRunAt"/>
    /// and sets last_run_at, only if the schedule is still enabled and still due at that time (compare-and-set).
    /// True if this caller claimed the run.</summary>
    Task<bool> ClaimAsync(string id, DateTimeOffset expectedNextRunAt, DateTimeOffset? nextRunAt, DateTimeOffset runAt, CancellationToken ct = default);
    /// <summary>Records what a claimed run produced: an execution id, or an error.</summary>
    Task RecordRunAsync(string id, string? executionId, string? error, CancellationToken ct = default);
}
