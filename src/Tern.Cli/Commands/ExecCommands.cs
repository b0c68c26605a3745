using System.CommandLine;
using System.Text.Json.Nodes;
using Tern.Cli.Output;
using Tern.Core.Executions;

namespace Tern.Cli.Commands;

/// <summary>`tern exec get ID [--watch]`: an execution record (sync or async). --watch polls until the call is
/// finished, printing each status change on one line, then the record; it exits 0 only if the call succeeded.
/// `tern exec list [--function F] [--status S] [--since TIME] [--limit N] [--cursor C | --all]`: records, newest first.</summary>
internal static class ExecCommands
{
    public static readonly TimeSpan DefaultWatchInterval = TimeSpan.FromMilliseconds(250);

    public static Command Create(CliContext context, TimeSpan watchInterval)
    {
        var command = new Command("exec", "Inspect executions (the records of sync and async calls)");
        command.Aliases.Add("execution");
        command.Subcommands.Add(GetCommand(context, watchInterval));
        command.Subcommands.Add(ListCommand(context));
        return command;
    }

    private static Command GetCommand(CliContext context, TimeSpan watchInterval)
    {
        var id = new Argument<string>("id") { Description = "Execution id (printed by enqueue, X-Execution-Id)", HelpName = "ID" };
        var watch = new Option<bool>("--watch", "-w")
        {
            Description = $"Poll every {watchInterval.TotalMilliseconds:0} ms until the call finishes; exit 0 only on success",
        };
        var command = new Command("get", "Show one execution") { id, watch };
        command.SetAction(async (result, ct) =>
        {
            var executionId = result.GetValue(id)!;
            using var client = context.CreateClient(result);
            var output = context.CreateOutput(result);
            var execution = await client.GetExecutionAsync(executionId, ct);
            if (!result.GetValue(watch))
            {
                output.WriteExecution(execution);
                return ExitCodes.Success;
            }

            string? last = null;
            while (true)
            {
                var key = ExecutionTable.StatusKey(execution);
                if (key != last) output.WriteStatusChange(execution);
                last = key;
                if (IsTerminal(execution)) break;
                await Task.Delay(watchInterval, ct);
                execution = await client.GetExecutionAsync(executionId, ct);
            }
            output.WriteExecution(execution);
            if (Status(execution) == ExecutionStatus.Success) return ExitCodes.Success;
            if (output.Format == OutputFormat.Table)
                context.Stderr.WriteLine($"error: execution {executionId} finished: " +
                    OutputWriter.FailureLine(Status(execution), (execution as JsonObject)?["error"]));
            return ExitCodes.Failure;
        });
        return command;
    }

    private static Command ListCommand(CliContext context)
    {
        var function = new Option<string>("--function", "-F") { Description = "Only this function's executions", HelpName = "NAME" };
        var status = new Option<string>("--status", "-s")
        {
            Description = "Only these statuses: queued, running, success, error, timeout (comma-separated)", HelpName = "STATUS",
        };
        var since = new Option<string>("--since")
        {
            Description = "Only executions created since TIME: RFC 3339, or an age such as 30s, 10m, 2h, 1d", HelpName = "TIME",
        };
        var limit = new Option<int?>("--limit", "-n") { Description = "At most N per page (server default 100, max 1000)", HelpName = "N" };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1) result.AddError("--limit must be at least 1");
        });
        var cursor = new Option<string>("--cursor") { Description = "Continue a listing (the cursor it printed)", HelpName = "CURSOR" };
        var all = new Option<bool>("--all") { Description = "Fetch every page, not only the first" };
        var command = new Command("list", "List executions, newest first") { function, status, since, limit, cursor, all };
        command.Validators.Add(result =>
        {
            if (result.GetValue(all) && result.GetValue(cursor) is not null) result.AddError("give --cursor or --all, not both");
        });
        command.SetAction(async (result, ct) =>
        {
            var sinceText = result.GetValue(since) is { } given ? SinceTime(given, DateTimeOffset.UtcNow) : null;
            using var client = context.CreateClient(result);
            var output = context.CreateOutput(result);
            var page = await client.ListExecutionsAsync(result.GetValue(function), result.GetValue(status), sinceText, result.GetValue(limit),
                result.GetValue(cursor), ct);
            if (result.GetValue(all))
            {
                var executions = (page["executions"] as JsonArray ?? []).Select(e => e?.DeepClone()).ToList();
                while ((string?)page["nextCursor"] is { } next)
                {
                    page = await client.ListExecutionsAsync(result.GetValue(function), result.GetValue(status), sinceText, result.GetValue(limit), next, ct);
                    executions.AddRange((page["executions"] as JsonArray ?? []).Select(e => e?.DeepClone()));
                }
                page = new JsonObject { ["executions"] = new JsonArray([.. executions]), ["nextCursor"] = null };
            }
            var more = (string?)page["nextCursor"] is { } cursorText
                ? NextPageCommand(result.GetValue(function), result.GetValue(status), sinceText, result.GetValue(limit), cursorText) : null;
            output.WriteExecutionList(page, more);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>An age ("10m": ten minutes ago) becomes the RFC 3339 time it means; anything else goes to the daemon as given
    /// (it checks RFC 3339 itself, and its 400 names the problem).</summary>
    internal static string SinceTime(string given, DateTimeOffset now)
    {
        if (given.Length >= 2 && long.TryParse(given.AsSpan(0, given.Length - 1), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var amount) && amount <= 36_500)
        {
            TimeSpan? age = given[^1] switch
            {
                's' => TimeSpan.FromSeconds(amount), 'm' => TimeSpan.FromMinutes(amount), 'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount), _ => null,
            };
            if (age is { } a) return (now - a).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        }
        return given;
    }

    private static string NextPageCommand(string? function, string? status, string? since, int? limit, string cursor)
    {
        var parts = new List<string> { "tern exec list" };
        if (function is not null) parts.Add("--function " + function);
        if (status is not null) parts.Add("--status " + status);
        if (since is not null) parts.Add("--since " + since);
        if (limit is not null) parts.Add("--limit " + limit);
        parts.Add("--cursor " + cursor);
        return string.Join(' ', parts);
    }

    private static string Status(JsonNode execution) => FunctionView.Text((execution as JsonObject)?["status"]);

    /// <summary>Finished: success, error or timeout. A record without a status cannot be watched, so it counts as finished too.</summary>
    private static bool IsTerminal(JsonNode execution) =>
        Status(execution) is var status && (status == "-" || ExecutionStatus.IsTerminal(status));
}
