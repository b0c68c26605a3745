using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Tern.Storage.Sql;
using Tern.Storage.Sqlite;
using Tern.Testing;

namespace Tern.Invocation.Tests.Scheduling;

internal static class ScheduleTestHelpers
{
    public const string Echo = "import json, sys\nprint(json.dumps(json.load(open(sys.argv[1]))))\n";

    public static byte[] Py(string source) => Encoding.UTF8.GetBytes(source);

    public static async Task<JsonObject> CreateScheduleAsync(DaemonFixture daemon, object body)
    {
        using var response = await daemon.Client.PostAsJsonAsync("/v1/schedules", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonObject> GetScheduleAsync(DaemonFixture daemon, string id) =>
        JsonNode.Parse(await daemon.Client.GetStringAsync($"/v1/schedules/{id}"))!.AsObject();

    /// <summary>Execution records of a function, straight from the daemon's database.</summary>
    public static long CountExecutions(DaemonFixture daemon, string function)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(daemon.DataDir, "tern.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM executions WHERE function = $f";
        command.Parameters.AddWithValue("$f", function);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Waits until the schedule's lastExecutionId differs from <paramref name="previous"/>; returns it.</summary>
    public static async Task<string> WaitNextFireAsync(DaemonFixture daemon, string id, string? previous, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var current = (string?)(await GetScheduleAsync(daemon, id))["lastExecutionId"];
            if (current is not null && current != previous) return current;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"schedule {id} did not fire again within {within}");
            await Task.Delay(50);
        }
    }
}

public sealed class SchedulerEndToEndTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    [Fact]
    public async Task EverySecond_FiresRepeatedly_AsAsyncExecutions_AndDisablingStopsIt()
    {
        await daemon.CreateOkAsync("sched-echo", "python", ScheduleTestHelpers.Py(ScheduleTestHelpers.Echo), "main.py");
        var created = await ScheduleTestHelpers.CreateScheduleAsync(daemon,
            new { function = "sched-echo", expression = "@every 1s", payload = new { n = 7 } });
        var id = (string)created["id"]!;
        Assert.True((bool)created["enabled"]!);
        Assert.NotNull((string?)created["nextRunAt"]);
        Assert.Equal(7, (int)created["payload"]!["n"]!);

        var started = DateTime.UtcNow;
        var ids = new HashSet<string>();
        while (DateTime.UtcNow - started < TimeSpan.FromSeconds(3.5) && ids.Count < 2)
        {
            if ((string?)(await ScheduleTestHelpers.GetScheduleAsync(daemon, id))["lastExecutionId"] is { } e) ids.Add(e);
            await Task.Delay(50);
        }
        Assert.True(ids.Count >= 2, $"fired {ids.Count} time(s) in 3.5 s");
        Assert.True(ScheduleTestHelpers.CountExecutions(daemon, "sched-echo") >= 2);
        foreach (var executionId in ids)
        {
            var record = await daemon.WaitTerminalAsync(executionId);
            Assert.Equal("success", (string?)record["status"]);
            Assert.Equal(7, (int)record["output"]!["n"]!);
            Assert.Equal("sched-echo", (string?)record["function"]);
        }

        using var patch = await daemon.Client.PatchAsJsonAsync($"/v1/schedules/{id}", new { enabled = false });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var disabled = JsonNode.Parse(await patch.Content.ReadAsStringAsync())!;
        Assert.False((bool)disabled["enabled"]!);
        Assert.Null((string?)disabled["nextRunAt"]);
        await Task.Delay(300); // a run claimed just before the PATCH may still be enqueuing
        var count = ScheduleTestHelpers.CountExecutions(daemon, "sched-echo");
        await Task.Delay(2000);
        Assert.Equal(count, ScheduleTestHelpers.CountExecutions(daemon, "sched-echo"));

        var metrics = await daemon.Client.GetStringAsync("/metrics");
        Assert.Contains("tern_scheduler_runs_total", metrics);

        var list = JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/schedules?function=sched-echo"))!["schedules"]!.AsArray();
        Assert.Equal(id, (string?)Assert.Single(list)!["id"]);
        using var delete = await daemon.Client.DeleteAsync($"/v1/schedules/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await daemon.Client.GetAsync($"/v1/schedules/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Theory]
    [InlineData("sched-valid", "*/61 * * * *", null, "expression")]
    [InlineData("sched-valid", "@every 0s", null, "expression")]
    [InlineData("no-such-function", "@every 5s", null, "function")]
    [InlineData("sched-valid", "0 9 * * *", "Mars/Olympus_Mons", "timezone")]
    public async Task Invalid_Returns400ProblemNamingTheField(string function, string expression, string? timezone, string field)
    {
        await daemon.CreateOkAsync("sched-valid", "python", ScheduleTestHelpers.Py(ScheduleTestHelpers.Echo), "main.py")
            .ContinueWith(_ => { }); // may already exist
        using var response = await daemon.Client.PostAsJsonAsync("/v1/schedules", new { function, expression, timezone });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task CronWithTimeZone_ShowsNextRun()
    {
        await daemon.CreateOkAsync("sched-cron", "python", ScheduleTestHelpers.Py(ScheduleTestHelpers.Echo), "main.py");
        var created = await ScheduleTestHelpers.CreateScheduleAsync(daemon,
            new { function = "sched-cron", expression = "0 9 * * MON-FRI", timezone = "Europe/Paris", enabled = false });
        Assert.Null((string?)created["nextRunAt"]);
        using var patch = await daemon.Client.PatchAsJsonAsync($"/v1/schedules/{created["id"]}", new { enabled = true });
        var enabled = JsonNode.Parse(await patch.Content.ReadAsStringAsync())!;
        var next = DateTimeOffset.Parse((string)enabled["nextRunAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        var local = TimeZoneInfo.ConvertTime(next, TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"));
        Assert.Equal(9, local.Hour);
        Assert.Equal(0, local.Minute);
        Assert.InRange(local.DayOfWeek, DayOfWeek.Monday, DayOfWeek.Friday);
        Assert.Equal("Europe/Paris", (string?)enabled["timezone"]);
    }
}

/// <summary>Restarts its daemon, so it has a fixture of its own.</summary>
public sealed class SchedulerRestartTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    [Fact]
    public async Task Schedule_SurvivesRestart_KeepsFiring_AndAMissedRunFiresOnce()
    {
        await daemon.CreateOkAsync("sched-restart", "python", ScheduleTestHelpers.Py(ScheduleTestHelpers.Echo), "main.py");
        await daemon.CreateOkAsync("sched-missed", "python", ScheduleTestHelpers.Py(ScheduleTestHelpers.Echo), "main.py");
        var fast = (string)(await ScheduleTestHelpers.CreateScheduleAsync(daemon, new { function = "sched-restart", expression = "1s" }))["id"]!;
        var hourly = (string)(await ScheduleTestHelpers.CreateScheduleAsync(daemon, new { function = "sched-missed", expression = "@every 1h" }))["id"]!;
        var before = await ScheduleTestHelpers.WaitNextFireAsync(daemon, fast, null, TimeSpan.FromSeconds(5));

        await daemon.StopAsync();
        // While the daemon is down, the hourly schedule misses three ticks.
        var store = new SqlScheduleStore(new SqliteDatabase(Path.Combine(daemon.DataDir, "tern.db")));
        var stored = (await store.GetAsync(hourly))!;
        Assert.True(await store.UpdateAsync(stored with { NextRunAt = DateTimeOffset.UtcNow.AddHours(-3) }));
        SqliteConnection.ClearAllPools();
        await daemon.StartAsync();

        var after = await ScheduleTestHelpers.WaitNextFireAsync(daemon, fast, before, TimeSpan.FromSeconds(5));
        await ScheduleTestHelpers.WaitNextFireAsync(daemon, fast, after, TimeSpan.FromSeconds(5));

        var missed = await ScheduleTestHelpers.GetScheduleAsync(daemon, hourly);
        Assert.NotNull((string?)missed["lastExecutionId"]);
        Assert.Equal(1, ScheduleTestHelpers.CountExecutions(daemon, "sched-missed")); // one catch-up run, not three
        var next = DateTimeOffset.Parse((string)missed["nextRunAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(next, DateTimeOffset.UtcNow.AddMinutes(55), DateTimeOffset.UtcNow.AddMinutes(61)); // continues from now
    }
}
