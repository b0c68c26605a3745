using System.Text.Json;
using Tern.Storage;
using Tern.Storage.Schedules;

namespace Tern.Invocation.Scheduling;

/// <summary>What a caller gives to create or change a schedule; null means "not given" (PATCH keeps the value).</summary>
public sealed record ScheduleInput(string? Function = null, string? Expression = null, string? Timezone = null,
    JsonElement? Payload = null, bool? Enabled = null);

/// <summary>Invalid schedule fields: field name → messages (shown as an RFC 7807 validation problem).</summary>
public sealed class ScheduleValidationException(IReadOnlyDictionary<string, string[]> errors)
    : Exception(string.Join(" ", errors.SelectMany(e => e.Value)))
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}

/// <summary>Creates, changes and removes schedules, validating them and computing nextRunAt; wakes the scheduler
/// after every change so a new or earlier run is not missed.</summary>
public sealed class ScheduleService
{
    private readonly IScheduleStore store;
    private readonly IFunctionStore functions;
    private readonly SchedulerService scheduler;
    private readonly TimeProvider time;

    // Internal: its collaborators are internal to the layer, so the layer's registration builds it (DI needs a public
    // constructor); the fields keep the parameters' names so the members read as they did with a primary constructor.
    internal ScheduleService(
        IScheduleStore store, IFunctionStore functions, SchedulerService scheduler, TimeProvider time)
    {
        this.store = store;
        this.functions = functions;
        this.scheduler = scheduler;
        this.time = time;
    }

    public const int MaxPayloadBytes = 256 * 1024;

    public Task<Schedule?> GetAsync(string id, CancellationToken ct) => store.GetAsync(id, ct);

    public Task<IReadOnlyList<Schedule>> ListAsync(string? function, CancellationToken ct) => store.ListAsync(function, ct);

    public async Task<bool> DeleteAsync(string id, CancellationToken ct)
    {
        var deleted = await store.DeleteAsync(id, ct).ConfigureAwait(false);
        if (deleted) scheduler.Nudge();
        return deleted;
    }

    public async Task<Schedule> CreateAsync(ScheduleInput input, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(input.Function)) errors["function"] = ["function is required"];
        else if (await functions.GetAsync(input.Function, ct).ConfigureAwait(false) is null)
            errors["function"] = [$"function '{input.Function}' does not exist"];
        if (input.Expression is null) errors["expression"] = ["expression is required (e.g. '@every 30s', '5m', '*/5 * * * *')"];
        var (expression, zone) = Check(input.Expression ?? "", input.Timezone, errors);
        var payload = CheckPayload(input.Payload, errors);
        if (errors.Count > 0) throw new ScheduleValidationException(errors);

        var now = time.GetUtcNow();
        var enabled = input.Enabled ?? true;
        var schedule = new Schedule
        {
            Id = "sch_" + Guid.NewGuid().ToString("N")[..20], Function = input.Function!, Expression = expression!.Text,
            TimeZone = NullIfEmpty(input.Timezone), Payload = payload ?? "{}", Enabled = enabled,
            NextRunAt = enabled ? expression.Next(now, zone!) : null, CreatedAt = now,
        };
        await store.CreateAsync(schedule, ct).ConfigureAwait(false);
        scheduler.Nudge();
        return schedule;
    }

    /// <summary>Changes expression, timezone, payload or enabled; null if there is no such schedule. A changed
    /// expression or time zone, or enabling, recomputes nextRunAt from now; disabling clears it.</summary>
    public async Task<Schedule?> UpdateAsync(string id, ScheduleInput patch, CancellationToken ct)
    {
        var current = await store.GetAsync(id, ct).ConfigureAwait(false);
        if (current is null) return null;
        var errors = new Dictionary<string, string[]>();
        if (patch.Function is not null && patch.Function != current.Function)
            errors["function"] = ["a schedule's function cannot be changed; create a new schedule"];
        var text = patch.Expression ?? current.Expression;
        var zoneId = patch.Timezone is null ? current.TimeZone : NullIfEmpty(patch.Timezone);
        var (expression, zone) = Check(text, zoneId, errors);
        var payload = CheckPayload(patch.Payload, errors);
        if (errors.Count > 0) throw new ScheduleValidationException(errors);

        var enabled = patch.Enabled ?? current.Enabled;
        var recompute = patch.Expression is not null || patch.Timezone is not null || (enabled && !current.Enabled) || current.NextRunAt is null;
        var updated = current with
        {
            Expression = expression!.Text, TimeZone = zoneId, Payload = payload ?? current.Payload, Enabled = enabled,
            NextRunAt = !enabled ? null : recompute ? expression.Next(time.GetUtcNow(), zone!) : current.NextRunAt,
        };
        var keep = enabled && !recompute; // only payload changed: do not undo a run the scheduler claimed meanwhile
        if (!await store.UpdateAsync(updated, keep, ct).ConfigureAwait(false)) return null;
        scheduler.Nudge();
        return keep ? await store.GetAsync(id, ct).ConfigureAwait(false) ?? updated : updated;
    }

    /// <summary>A stored time zone id as a TimeZoneInfo (null or empty: UTC). Throws TimeZoneNotFoundException.</summary>
    public static TimeZoneInfo ResolveZone(string? id) =>
        string.IsNullOrEmpty(id) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(id);

    private static (ScheduleExpression? Expression, TimeZoneInfo? Zone) Check(string text, string? zoneId, Dictionary<string, string[]> errors)
    {
        ScheduleExpression? expression = null;
        TimeZoneInfo? zone = null;
        if (!errors.ContainsKey("expression"))
        {
            if (ScheduleExpression.TryParse(text, out expression, out var error)) { }
            else errors["expression"] = [$"invalid expression: {error}"];
        }
        try
        {
            zone = ResolveZone(zoneId);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            errors["timezone"] = [$"unknown time zone '{zoneId}' (use an IANA id such as Europe/Paris, or UTC)"];
        }
        return (expression, zone);
    }

    private static string? CheckPayload(JsonElement? payload, Dictionary<string, string[]> errors)
    {
        if (payload is not { } p || p.ValueKind == JsonValueKind.Undefined) return null;
        var text = p.GetRawText();
        if (System.Text.Encoding.UTF8.GetByteCount(text) > MaxPayloadBytes)
            errors["payload"] = [$"the payload may be at most {MaxPayloadBytes / 1024} KB"];
        return text;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
