using System.Globalization;
using Cronos;

namespace Tern.Invocation.Scheduling;

/// <summary>A parsed schedule: a fixed interval (<c>@every 30s</c> or a plain duration <c>5m</c>, <c>1h30m</c>; 1 s to
/// 366 d), a macro (<c>@hourly</c>, <c>@daily</c>/<c>@midnight</c>, <c>@weekly</c>, <c>@monthly</c>,
/// <c>@yearly</c>/<c>@annually</c>) or a 5-field cron expression (minute hour day-of-month month day-of-week).
/// <para>Cron fields, their matching and the time-zone arithmetic are Cronos's (https://github.com/HangfireIO/Cronos):
/// <c>*</c>, <c>?</c>, ranges, lists, steps, JAN/MON names, 7 = Sunday, <c>L</c> / <c>L-3</c> / <c>LW</c> / <c>15W</c> in
/// day-of-month, <c>5L</c> (last Friday) and <c>1#2</c> (second Monday) in day-of-week. This class keeps Tern's own
/// rules on top:</para>
/// <list type="bullet">
/// <item>Exactly 5 fields. The 6-field form with seconds is refused: sub-minute schedules are <c>@every 10s</c>, and a
/// sixth field is read as seconds by some tools and as a year by others, so accepting it would invite mistakes.</item>
/// <item>When both day-of-month and day-of-week are restricted, a day matching either one matches (Vixie cron, crontab,
/// Kubernetes CronJob); Cronos alone would need both, so such an expression is two Cronos expressions, one per day field,
/// and the earlier occurrence wins.</item>
/// <item>A backwards range (<c>5-1</c>, <c>FRI-MON</c>) is refused, as before; Cronos would wrap it around.</item>
/// <item>DST: a local time that a spring-forward jump skips does not fire that day (Cronos would fire at the end of the
/// gap; we drop that adjusted occurrence). On a fall-back, a fixed time (<c>30 2 * * *</c>) fires once, at its first
/// occurrence, while an expression with <c>*</c>, a range or a step in its minute or hour field (<c>0 * * * *</c>,
/// <c>*/15 9-17 * * *</c>) also fires in the repeated hour, so its real interval holds (Cronos's rule).</item>
/// </list></summary>
internal sealed class ScheduleExpression
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxInterval = TimeSpan.FromDays(366);

    private static readonly string[] FieldNames = ["minute", "hour", "day-of-month", "month", "day-of-week"];
    private static readonly string[] CronosFieldNames = ["Minutes", "Hours", "Days of month", "Months", "Days of week"];
    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    private static readonly DateTimeOffset ValidityProbe = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Bounds the skips past DST-adjusted occurrences (at most one per gap), so Next always ends.</summary>
    private const int MaxSkips = 1000;

    private readonly TimeSpan? _interval;
    private readonly CronExpression[] _crons;

    private ScheduleExpression(string text, TimeSpan? interval, CronExpression[] crons)
    {
        Text = text;
        _interval = interval;
        _crons = crons;
    }

    /// <summary>The expression as given (trimmed).</summary>
    public string Text { get; }

    /// <summary>The fixed interval, or null for a cron expression.</summary>
    public TimeSpan? Interval => _interval;

    public override string ToString() => Text;

    /// <summary>Parses an expression; throws FormatException with a message that says what is wrong.</summary>
    public static ScheduleExpression Parse(string? text)
    {
        var trimmed = text?.Trim() ?? "";
        if (trimmed.Length == 0) throw new FormatException("the expression is empty");
        if (trimmed.StartsWith('@'))
        {
            var parts = trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var macro = parts[0].ToLowerInvariant();
            if (macro == "@every")
            {
                if (parts.Length != 2) throw new FormatException("@every takes one duration, e.g. '@every 30s'");
                return new ScheduleExpression(trimmed, ParseDuration(parts[1]), []);
            }
            if (parts.Length != 1) throw new FormatException($"'{parts[0]}' takes no arguments");
            var cron = macro switch
            {
                "@hourly" => "0 * * * *",
                "@daily" or "@midnight" => "0 0 * * *",
                "@weekly" => "0 0 * * 0",
                "@monthly" => "0 0 1 * *",
                "@yearly" or "@annually" => "0 0 1 1 *",
                _ => throw new FormatException(
                    $"unknown macro '{parts[0]}' (use @every DURATION, @hourly, @daily, @weekly, @monthly or @yearly)"),
            };
            return ParseCron(trimmed, cron);
        }
        if (char.IsAsciiDigit(trimmed[0]) && !trimmed.Contains(' ') && char.IsAsciiLetter(trimmed[^1]))
            return new ScheduleExpression(trimmed, ParseDuration(trimmed), []);
        return ParseCron(trimmed, trimmed);
    }

    public static bool TryParse(string? text, out ScheduleExpression? expression, out string? error)
    {
        try
        {
            expression = Parse(text);
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            expression = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>A duration: one or more number+unit pairs (s, m, h, d), e.g. 30s, 5m, 1h30m. 1 s to 366 d.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var total = TimeSpan.Zero;
        var i = 0;
        if (text.Length == 0) throw new FormatException("the duration is empty");
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
            if (i == start || i == text.Length)
                throw new FormatException($"'{text}' is not a duration (use a number and a unit s, m, h or d, e.g. 30s, 5m, 1h30m)");
            if (!long.TryParse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 1_000_000)
                throw new FormatException($"'{text}' is too long a duration");
            total += char.ToLowerInvariant(text[i]) switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => throw new FormatException($"'{text}': unknown unit '{text[i]}' (use s, m, h or d)"),
            };
            i++;
        }
        if (total < MinInterval) throw new FormatException($"'{text}': the interval must be at least 1s");
        if (total > MaxInterval) throw new FormatException($"'{text}': the interval may be at most 366d");
        return total;
    }

    private static ScheduleExpression ParseCron(string text, string cron)
    {
        var fields = cron.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
            throw new FormatException(
                $"'{text}' has {fields.Length} field(s); a cron expression has 5 (minute hour day-of-month month day-of-week), e.g. '*/5 * * * *'");
        for (var i = 0; i < fields.Length; i++) RejectBackwardsRanges(fields, i);
        CronExpression[] crons = IsStar(fields[2]) || IsStar(fields[4])
            ? [Compile(text, fields, fields[2], fields[4])]
            : [Compile(text, fields, fields[2], "*"), Compile(text, fields, "*", fields[4])];
        var e = new ScheduleExpression(text, null, crons);
        if (e.Next(ValidityProbe, TimeZoneInfo.Utc) is null) throw new FormatException($"'{text}' never matches a date");
        return e;
    }

    private static bool IsStar(string field) => field is "*" or "?";

    private static CronExpression Compile(string text, string[] fields, string dayOfMonth, string dayOfWeek)
    {
        try
        {
            return CronExpression.Parse($"{fields[0]} {fields[1]} {dayOfMonth} {fields[3]} {dayOfWeek}", CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            throw new FormatException(Describe(text, fields, e.Message), e);
        }
        catch (MissingSeedException e)
        {
            throw new FormatException($"'{text}': H (jitter) is not supported; give the minute and hour", e);
        }
    }

    /// <summary>Cronos says "... Minutes: Value must be a number between 0 and 59 (all inclusive)."; this names the field
    /// the way the rest of Tern does and quotes what was written in it.</summary>
    private static string Describe(string text, string[] fields, string message)
    {
        for (var i = 0; i < CronosFieldNames.Length; i++)
        {
            var at = message.IndexOf(CronosFieldNames[i] + ": ", StringComparison.Ordinal);
            if (at < 0) continue;
            var detail = message[(at + CronosFieldNames[i].Length + 2)..].TrimEnd('.');
            if (detail.Length > 0) detail = char.ToLowerInvariant(detail[0]) + detail[1..];
            var names = i switch { 3 => " or a name JAN-DEC", 4 => " or a name SUN-SAT", _ => "" };
            return $"{FieldNames[i]} field '{fields[i]}': {detail}{names}";
        }
        return $"'{text}' is not a valid cron expression: {message}";
    }

    private static void RejectBackwardsRanges(string[] fields, int index)
    {
        foreach (var item in fields[index].Split(','))
        {
            var slash = item.IndexOf('/');
            var range = slash < 0 ? item : item[..slash];
            var dash = range.Length > 1 ? range.IndexOf('-', 1) : -1;
            if (dash < 0) continue;
            if (Value(range[..dash], index) is { } from && Value(range[(dash + 1)..], index) is { } to && to < from)
                throw new FormatException($"{FieldNames[index]} field '{fields[index]}': the range '{range}' runs backwards");
        }
    }

    /// <summary>A range bound as a number (null for what Cronos will judge, such as <c>L</c> in <c>L-3</c>).</summary>
    private static int? Value(string text, int index)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return n;
        var names = index switch { 3 => MonthNames, 4 => DayNames, _ => null };
        var at = names is null ? -1 : Array.FindIndex(names, x => x.Equals(text, StringComparison.OrdinalIgnoreCase));
        return at < 0 ? null : at + (index == 3 ? 1 : 0);
    }

    /// <summary>The first fire time strictly after <paramref name="after"/>, or null if there is none (Cronos looks
    /// ahead to the end of its calendar range). Intervals ignore the time zone: the next fire is <paramref name="after"/>
    /// plus the interval.</summary>
    public DateTimeOffset? Next(DateTimeOffset after, TimeZoneInfo zone)
    {
        if (_interval is { } interval) return after + interval;
        DateTimeOffset? first = null;
        foreach (var cron in _crons)
        {
            if (Next(cron, after, zone) is { } next && (first is null || next < first)) first = next;
        }
        return first;
    }

    /// <summary>Cronos's next occurrence, past any that Cronos moved to the end of a DST gap: the wall-clock time it
    /// lands on is then one the expression does not name.</summary>
    private static DateTimeOffset? Next(CronExpression cron, DateTimeOffset after, TimeZoneInfo zone)
    {
        var from = after;
        for (var skips = 0; skips <= MaxSkips; skips++)
        {
            if (cron.GetNextOccurrence(from, zone) is not { } next) return null;
            // The local time, read as a plain calendar time: does the expression name it?
            var wall = DateTime.SpecifyKind(TimeZoneInfo.ConvertTime(next, zone).DateTime, DateTimeKind.Utc);
            if (cron.GetNextOccurrence(wall, inclusive: true) == wall) return next;
            from = next;
        }
        return null;
    }
}
