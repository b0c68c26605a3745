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

    [Theory]
    [InlineData("", "empty")]
    [InlineData("* * * *", "has 4 field(s)")]
    [InlineData("* * * * * *", "has 6 field(s)")]
    [InlineData("60 * * * *", "minute field '60': 60 is out of range 0-59")]
    [InlineData("* 24 * * *", "hour field")]
    [InlineData("* * 0 * *", "day-of-month field")]
    [InlineData("* * * 13 *", "month field")]
    [InlineData("* * * FOO *", "'FOO' is not a number")]
    [InlineData("* * * * 8", "day-of-week field")]
    [InlineData("*/0 * * * *", "step")]
    [InlineData("5-1 * * * *", "runs backwards")]
    [InlineData("1,,2 * * * *", "empty list item")]
    [InlineData("0 0 30 2 *", "never matches")]
    [InlineData("@every", "@every takes one duration")]
    [InlineData("@every 0s", "at least 1s")]
    [InlineData("@every 500ms", "not a duration")]
    [InlineData("@every 5x", "unknown unit 'x'")]
    [InlineData("@every abc", "not a duration")]
    [InlineData("@fortnightly", "unknown macro")]
    [InlineData("@daily 3", "takes no arguments")]
    public void Invalid_RejectedWithAClearMessage(string expression, string message)
    {
        var e = Assert.Throws<FormatException>(() => ScheduleExpression.Parse(expression));
        Assert.Contains(message, e.Message);
    }
}
