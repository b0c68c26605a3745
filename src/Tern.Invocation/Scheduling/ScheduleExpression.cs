using System.Globalization;

namespace Tern.Invocation.Scheduling;

/// <summary>A parsed schedule: a fixed interval (<c>@every 30s</c> or a plain duration <c>5m</c>, <c>1h30m</c>; at
/// least 1 s) or a standard 5-field cron expression (minute hour day-of-month month day-of-week) with <c>*</c>,
/// ranges, lists, steps, month and day names (JAN, MON), <c>L</c> (last day of the month) in day-of-month, and the
/// macros <c>@hourly</c>, <c>@daily</c>/<c>@midnight</c>, <c>@weekly</c>, <c>@monthly</c>, <c>@yearly</c>/<c>@annually</c>.
/// Cron times are wall-clock times in the schedule's time zone: a local time that does not exist (spring forward) is
/// skipped, an ambiguous one (fall back) fires once, at its first occurrence. As in Vixie cron, when both
/// day-of-month and day-of-week are restricted, a day matching either one matches.</summary>
public sealed class ScheduleExpression
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxInterval = TimeSpan.FromDays(366);

    /// <summary>How far ahead Next looks before deciding an expression never matches (covers Feb 29 across 2100).</summary>
    private const int SearchYears = 9;

    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private readonly TimeSpan? _interval;
    private readonly bool[] _minutes = new bool[60];
    private readonly bool[] _hours = new bool[24];
    private readonly bool[] _daysOfMonth = new bool[32];
    private readonly bool[] _months = new bool[13];
    private readonly bool[] _daysOfWeek = new bool[7];
    private bool _lastDayOfMonth;
    private bool _domRestricted;
    private bool _dowRestricted;

    private ScheduleExpression(string text, TimeSpan? interval)
    {
        Text = text;
        _interval = interval;
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
                return new ScheduleExpression(trimmed, ParseDuration(parts[1]));
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
            return new ScheduleExpression(trimmed, ParseDuration(trimmed));
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

    /// <summary>A duration: one or more number+unit pairs (s, m, h, d), e.g. 30s, 5m, 1h30m. At least 1 s.</summary>
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
        var e = new ScheduleExpression(text, null);
        ParseField(fields[0], "minute", 0, 59, null, e._minutes);
        ParseField(fields[1], "hour", 0, 23, null, e._hours);
        if (fields[2].Equals("L", StringComparison.OrdinalIgnoreCase)) e._lastDayOfMonth = true;
        else ParseField(fields[2], "day-of-month", 1, 31, null, e._daysOfMonth);
        ParseField(fields[3], "month", 1, 12, MonthNames, e._months);
        var dow = new bool[8];
        ParseField(fields[4], "day-of-week", 0, 7, DayNames, dow);
        for (var d = 0; d < 7; d++) e._daysOfWeek[d] = dow[d];
        if (dow[7]) e._daysOfWeek[0] = true; // 7 is Sunday too
        e._domRestricted = !IsStar(fields[2]);
        e._dowRestricted = !IsStar(fields[4]);
        if (e.Next(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), TimeZoneInfo.Utc) is null)
            throw new FormatException($"'{text}' never matches a date");
        return e;
    }

    private static bool IsStar(string field) => field is "*" or "?";

    private static void ParseField(string field, string name, int min, int max, string[]? names, bool[] set)
    {
        foreach (var item in field.Split(','))
        {
            if (item.Length == 0) throw new FormatException($"{name} field '{field}' has an empty list item");
            var slash = item.IndexOf('/');
            var range = slash < 0 ? item : item[..slash];
            var step = 1;
            if (slash >= 0 && (!int.TryParse(item.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1 || step > max))
                throw new FormatException($"{name} field '{field}': the step '{item[(slash + 1)..]}' must be a number from 1 to {max}");
            int from, to;
            if (range is "*" or "?")
            {
                (from, to) = (min, max);
            }
            else
            {
                var dash = range.IndexOf('-', 1);
                from = Value(dash < 0 ? range : range[..dash], field, name, min, max, names);
                to = dash < 0 ? (slash >= 0 ? max : from) : Value(range[(dash + 1)..], field, name, min, max, names);
                if (to < from) throw new FormatException($"{name} field '{field}': the range '{range}' runs backwards");
            }
            for (var v = from; v <= to; v += step) set[v] = true;
        }
    }

    private static int Value(string text, string field, string name, int min, int max, string[]? names)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            if (n < min || n > max) throw new FormatException($"{name} field '{field}': {n} is out of range {min}-{max}");
            return n;
        }
        if (names is not null)
        {
            var index = Array.FindIndex(names, x => x.Equals(text, StringComparison.OrdinalIgnoreCase));
            if (index >= 0) return index + (min == 1 ? 1 : 0);
        }
        var hint = names is null ? "" : $" or a name ({string.Join(", ", names)})";
        throw new FormatException($"{name} field '{field}': '{text}' is not a number from {min} to {max}{hint}");
    }

    /// <summary>The first fire time strictly after <paramref name="after"/>, or null if there is none within
    /// nine years. Intervals ignore the time zone: the next fire is <paramref name="after"/> plus the interval.</summary>
    public DateTimeOffset? Next(DateTimeOffset after, TimeZoneInfo zone)
    {
        if (_interval is { } interval) return after + interval;
        var local = TimeZoneInfo.ConvertTime(after, zone).DateTime;
        var t = new DateTime(local.Year, local.Month, local.Day, local.Hour, local.Minute, 0, DateTimeKind.Unspecified).AddMinutes(1);
        var limit = t.Year + SearchYears;
        while (t.Year <= limit)
        {
            if (!_months[t.Month])
            {
                t = new DateTime(t.Year, t.Month, 1).AddMonths(1);
                continue;
            }
            if (!DayMatches(t))
            {
                t = t.Date.AddDays(1);
                continue;
            }
            if (!_hours[t.Hour])
            {
                t = t.Date.AddHours(t.Hour + 1);
                continue;
            }
            if (!_minutes[t.Minute])
            {
                t = t.AddMinutes(1);
                continue;
            }
            if (ToInstant(t, zone) is { } instant && instant > after) return instant;
            t = t.AddMinutes(1);
        }
        return null;
    }

    private bool DayMatches(DateTime t)
    {
        var dom = _lastDayOfMonth ? t.Day == DateTime.DaysInMonth(t.Year, t.Month) : _daysOfMonth[t.Day];
        var dow = _daysOfWeek[(int)t.DayOfWeek];
        if (_domRestricted && _dowRestricted) return dom || dow;
        return dom && dow;
    }

    /// <summary>A wall-clock time in <paramref name="zone"/> as an instant: null if it does not exist (skipped by a
    /// DST jump); the first occurrence if it is ambiguous.</summary>
    private static DateTimeOffset? ToInstant(DateTime wall, TimeZoneInfo zone)
    {
        if (zone.IsInvalidTime(wall)) return null;
        var offset = zone.IsAmbiguousTime(wall) ? zone.GetAmbiguousTimeOffsets(wall).Max() : zone.GetUtcOffset(wall);
        return new DateTimeOffset(wall, offset);
    }
}
