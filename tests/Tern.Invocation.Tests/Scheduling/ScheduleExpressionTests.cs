using System.Globalization;
using Tern.Invocation.Scheduling;

namespace Tern.Invocation.Tests.Scheduling;

public sealed class ScheduleExpressionTests
{
    /// <summary>Wednesday 2025-01-15 10:07:30 UTC.</summary>
    private static readonly DateTimeOffset From = new(2025, 1, 15, 10, 7, 30, TimeSpan.Zero);

    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("* * * * *", "2025-01-15T10:08:00Z")]
    [InlineData("*/5 * * * *", "2025-01-15T10:10:00Z")]
    [InlineData("0 * * * *", "2025-01-15T11:00:00Z")]
    [InlineData("@hourly", "2025-01-15T11:00:00Z")]
    [InlineData("@daily", "2025-01-16T00:00:00Z")]
    [InlineData("@midnight", "2025-01-16T00:00:00Z")]
    [InlineData("@weekly", "2025-01-19T00:00:00Z")] // next Sunday
    [InlineData("@monthly", "2025-02-01T00:00:00Z")]
    [InlineData("@yearly", "2026-01-01T00:00:00Z")]
    [InlineData("15,45 9-17 * * *", "2025-01-15T10:15:00Z")]
    [InlineData("0 9-17/4 * * *", "2025-01-15T13:00:00Z")] // 9, 13, 17
    [InlineData("30 8 * * MON-FRI", "2025-01-16T08:30:00Z")]
    [InlineData("0 12 * * sat,SUN", "2025-01-18T12:00:00Z")]
    [InlineData("0 0 * * 7", "2025-01-19T00:00:00Z")] // 7 is Sunday
    [InlineData("0 0 1 JAN-MAR/2 *", "2025-03-01T00:00:00Z")]
    [InlineData("0 0 L * *", "2025-01-31T00:00:00Z")]
    [InlineData("0 0 L FEB *", "2025-02-28T00:00:00Z")]
    [InlineData("0 0 31 * *", "2025-01-31T00:00:00Z")]
    [InlineData("0 0 31 APR-JUN *", "2025-05-31T00:00:00Z")] // April has no 31st
    [InlineData("0 0 29 2 *", "2028-02-29T00:00:00Z")] // next leap day
    [InlineData("0 0 13 * FRI", "2025-01-17T00:00:00Z")] // day-of-month OR day-of-week (Friday 17th first)
    [InlineData("10/20 * * * *", "2025-01-15T10:10:00Z")] // 10, 30, 50
    [InlineData("7 10 * * *", "2025-01-16T10:07:00Z")] // strictly after: 10:07 today has passed
    public void Cron_NextFromFixedInstant(string expression, string expected) =>
        Assert.Equal(At(expected), ScheduleExpression.Parse(expression).Next(From, TimeZoneInfo.Utc));

    [Theory]
    [InlineData("@every 30s", 30)]
    [InlineData("@every 1s", 1)]
    [InlineData("@every 1h30m", 5400)]
    [InlineData("5m", 300)]
    [InlineData("30s", 30)]
    [InlineData("2h", 7200)]
    public void Intervals_AddToTheInstant(string expression, int seconds)
    {
        var e = ScheduleExpression.Parse(expression);
        Assert.Equal(TimeSpan.FromSeconds(seconds), e.Interval);
        Assert.Equal(From.AddSeconds(seconds), e.Next(From, TimeZoneInfo.Utc));
    }

    [Fact]
    public void TimeZone_WallClockInTheZone()
    {
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        // 09:00 in Paris in January is 08:00 UTC; From is 11:07 Paris, so the next is tomorrow.
        Assert.Equal(At("2025-01-16T08:00:00Z"), ScheduleExpression.Parse("0 9 * * *").Next(From, paris));
        // In July (CEST, +2) it is 07:00 UTC.
        Assert.Equal(At("2025-07-02T07:00:00Z"), ScheduleExpression.Parse("0 9 * * *").Next(At("2025-07-01T12:00:00Z"), paris));
    }

    [Fact]
    public void Dst_SpringForward_NonexistentLocalTimeIsSkipped()
    {
        // Europe/Paris jumps from 02:00 to 03:00 on 2025-03-30: 02:30 does not exist that day.
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        var e = ScheduleExpression.Parse("30 2 * * *");
        var before = At("2025-03-29T12:00:00Z");
        Assert.Equal(At("2025-03-31T00:30:00Z"), e.Next(before, paris)); // 2025-03-31 02:30 CEST
    }

    [Fact]
    public void Dst_FallBack_AmbiguousLocalTimeFiresOnce()
    {
        // Europe/Paris goes back from 03:00 CEST to 02:00 CET on 2025-10-26: 02:30 happens twice.
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        var e = ScheduleExpression.Parse("30 2 * * *");
        var first = e.Next(At("2025-10-25T12:00:00Z"), paris);
        Assert.Equal(At("2025-10-26T00:30:00Z"), first); // 02:30 CEST, the first occurrence
        Assert.Equal(At("2025-10-27T01:30:00Z"), e.Next(first!.Value, paris)); // not again at 02:30 CET
    }

    [Fact]
    public void Dst_HourlyAcrossFallBack_NoDuplicate()
    {
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        var e = ScheduleExpression.Parse("0 * * * *");
        var t = At("2025-10-25T23:30:00Z"); // 01:30 CEST
        var fires = new List<DateTimeOffset>();
        for (var i = 0; i < 4; i++) fires.Add(t = e.Next(t, paris)!.Value);
        Assert.Equal(fires.Distinct().Count(), fires.Count);
        Assert.All(fires.Zip(fires.Skip(1)), p => Assert.True(p.Second > p.First));
    }

    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly TimeZoneInfo Sydney = TimeZoneInfo.FindSystemTimeZoneById("Australia/Sydney");

    private static TimeZoneInfo Zone(string id) => id switch
    {
        "Europe/Paris" => Paris,
        "America/New_York" => NewYork,
        "Australia/Sydney" => Sydney,
        _ => TimeZoneInfo.Utc,
    };

    /// <summary>The next <paramref name="count"/> fire times from <paramref name="from"/>, as UTC ISO strings.</summary>
    private static string[] Fires(string expression, string zone, string from, int count)
    {
        var e = ScheduleExpression.Parse(expression);
        var t = At(from);
        var fires = new string[count];
        for (var i = 0; i < count; i++)
        {
            t = e.Next(t, Zone(zone))!.Value;
            fires[i] = t.UtcDateTime.ToString("yyyy-MM-ddTHH:mmZ", CultureInfo.InvariantCulture);
        }
        return fires;
    }

    [Theory]
    // New York springs from 02:00 EST to 03:00 EDT on 2025-03-09: 02:30 that day does not exist.
    [InlineData("America/New_York", "2025-03-08T12:00:00Z", "2025-03-10T06:30Z")]
    // Sydney (southern hemisphere) springs from 02:00 AEST to 03:00 AEDT on 2025-10-05 (Sunday).
    [InlineData("Australia/Sydney", "2025-10-04T00:00:00Z", "2025-10-05T15:30Z")] // 2025-10-06 02:30 AEDT
    public void Dst_SpringForward_SkippedTimeDoesNotFireThatDay(string zone, string from, string expected) =>
        Assert.Equal([expected], Fires("30 2 * * *", zone, from, 1));

    [Fact]
    public void Dst_SpringForward_HourlyKeepsItsRealInterval()
    {
        // 01:15 CET, then 02:15 does not exist, so 03:15 CEST: one real hour later, and no extra run at 03:00.
        Assert.Equal(["2025-03-30T00:15Z", "2025-03-30T01:15Z", "2025-03-30T02:15Z"],
            Fires("15 * * * *", "Europe/Paris", "2025-03-29T23:30:00Z", 3));
        // 03:00 CEST is a real time the expression names: it fires, right at the end of the gap.
        Assert.Equal(["2025-03-30T00:30Z", "2025-03-30T01:00Z", "2025-03-30T01:30Z"],
            Fires("*/30 * * * *", "Europe/Paris", "2025-03-30T00:15:00Z", 3));
        Assert.Equal(["2025-03-30T01:00Z", "2025-03-31T01:00Z"], Fires("0 3 * * *", "Europe/Paris", "2025-03-29T12:00:00Z", 2));
    }

    [Theory]
    // New York falls back from 02:00 EDT to 01:00 EST on 2025-11-02: 01:30 happens twice, the job runs at the first.
    [InlineData("30 1 * * *", "America/New_York", "2025-11-01T12:00:00Z", "2025-11-02T05:30Z", "2025-11-03T06:30Z")]
    // Sydney falls back from 03:00 AEDT to 02:00 AEST on 2025-04-06.
    [InlineData("30 2 * * *", "Australia/Sydney", "2025-04-05T00:00:00Z", "2025-04-05T15:30Z", "2025-04-06T16:30Z")]
    // A list of fixed times is not an interval: each fires once.
    [InlineData("0 1,2 * * SUN", "America/New_York", "2025-11-02T04:30:00Z", "2025-11-02T05:00Z", "2025-11-02T07:00Z")]
    public void Dst_FallBack_RepeatedFixedTimeFiresOnce(string expression, string zone, string from, string first, string second) =>
        Assert.Equal([first, second], Fires(expression, zone, from, 2));

    [Fact]
    public void Dst_FallBack_IntervalExpressionsFireInTheRepeatedHourToo()
    {
        // Paris 2025-10-26: 02:00 CEST, 02:00 CET, 03:00 CET: every real hour.
        Assert.Equal(["2025-10-26T00:00Z", "2025-10-26T01:00Z", "2025-10-26T02:00Z"],
            Fires("0 * * * *", "Europe/Paris", "2025-10-25T23:30:00Z", 3));
        // New York 2025-11-02: 01:00 and 01:30 EDT, then 01:00 and 01:30 EST; the next day 01:00 EST.
        Assert.Equal(["2025-11-02T05:00Z", "2025-11-02T05:30Z", "2025-11-02T06:00Z", "2025-11-02T06:30Z", "2025-11-03T06:00Z"],
            Fires("*/30 1 * * *", "America/New_York", "2025-11-02T04:00:00Z", 5));
    }

    [Theory]
    // Fixed intervals are real elapsed time, whatever the zone's clock does.
    [InlineData("@every 1h", "Europe/Paris", "2025-10-26T00:30:00Z", "2025-10-26T01:30Z", "2025-10-26T02:30Z")]
    [InlineData("1d", "America/New_York", "2025-03-08T17:00:00Z", "2025-03-09T17:00Z", "2025-03-10T17:00Z")] // 12:00 EST, 13:00 EDT
    [InlineData("@every 30m", "Australia/Sydney", "2025-10-04T15:45:00Z", "2025-10-04T16:15Z", "2025-10-04T16:45Z")]
    public void Dst_IntervalsIgnoreTheWallClock(string expression, string zone, string from, string first, string second) =>
        Assert.Equal([first, second], Fires(expression, zone, from, 2));

    [Theory]
    [InlineData("0 9 LW * *", "UTC", "2025-05-01T00:00:00Z", "2025-05-30T09:00Z")] // May 31 is a Saturday
    [InlineData("0 0 L-2 * *", "UTC", "2025-01-15T00:00:00Z", "2025-01-29T00:00Z")]
    [InlineData("0 0 15W * *", "UTC", "2025-06-01T00:00:00Z", "2025-06-16T00:00Z")] // 15th is a Sunday: Monday
    [InlineData("0 0 1W * *", "UTC", "2025-02-15T00:00:00Z", "2025-03-03T00:00Z")] // 1 Mar is a Saturday: not back into February
    [InlineData("0 9 * * 5L", "Europe/Paris", "2025-03-01T00:00:00Z", "2025-03-28T08:00Z")] // last Friday, 09:00 CET
    [InlineData("0 9 * * FRIL", "Europe/Paris", "2025-10-01T00:00:00Z", "2025-10-31T08:00Z")] // after fall-back: CET again
    [InlineData("0 10 * * MON#2", "America/New_York", "2025-02-11T00:00:00Z", "2025-03-10T14:00Z")] // EDT since 9 March
    [InlineData("0 0 * * 5#5", "UTC", "2025-02-01T00:00:00Z", "2025-05-30T00:00Z")] // next month with five Fridays
    [InlineData("0 0 L * MON", "UTC", "2025-01-15T00:00:00Z", "2025-01-20T00:00Z")] // either day field: Monday first
    public void Cron_LastWeekdayAndNthForms(string expression, string zone, string from, string expected) =>
        Assert.Equal([expected], Fires(expression, zone, from, 1));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("* * * *", "has 4 field(s)")]
    [InlineData("* * * * * *", "has 6 field(s)")]
    [InlineData("60 * * * *", "minute field '60': value must be a number between 0 and 59")]
    [InlineData("* 24 * * *", "hour field")]
    [InlineData("* * 0 * *", "day-of-month field")]
    [InlineData("* * * 13 *", "month field")]
    [InlineData("* * * FOO *", "month field 'FOO': value must be a number between 1 and 12 (all inclusive) or a name JAN-DEC")]
    [InlineData("* * * * 8", "day-of-week field")]
    [InlineData("*/0 * * * *", "minute field '*/0'")]
    [InlineData("5-1 * * * *", "runs backwards")]
    [InlineData("1,,2 * * * *", "minute field '1,,2'")]
    [InlineData("0 0 30 2 *", "never matches")]
    [InlineData("@every", "@every takes one duration")]
    [InlineData("@every 0s", "at least 1s")]
    [InlineData("@every 500ms", "not a duration")]
    [InlineData("@every 5x", "unknown unit 'x'")]
    [InlineData("@every abc", "not a duration")]
    [InlineData("@fortnightly", "unknown macro")]
    [InlineData("@daily 3", "takes no arguments")]
    [InlineData("FRI-MON * * * *", "minute field 'FRI-MON'")] // names only in month and day-of-week
    [InlineData("0 0 * * FRI-MON", "day-of-week field 'FRI-MON': the range 'FRI-MON' runs backwards")]
    [InlineData("0 0 * * MON#6", "day-of-week field 'MON#6'")]
    [InlineData("0 0 32W * *", "day-of-month field '32W'")]
    [InlineData("H * * * *", "H (jitter) is not supported")]
    [InlineData("@every 367d", "at most 366d")]
    public void Invalid_RejectedWithAClearMessage(string expression, string message)
    {
        var e = Assert.Throws<FormatException>(() => ScheduleExpression.Parse(expression));
        Assert.Contains(message, e.Message);
    }
}
