using System.CommandLine;
using System.Text.Json.Nodes;
using Tern.Cli.Output;

namespace Tern.Cli.Commands;

/// <summary>`tern schedule add FUNCTION --every 30s | --cron "*/5 * * * *" [--tz ZONE] [-d JSON] [--disabled]`,
/// `tern schedule list [FUNCTION]`, `tern schedule remove ID`, `tern schedule enable|disable ID`.</summary>
internal static class ScheduleCommands
{
    private static readonly string[] Headers = ["ID", "FUNCTION", "EXPRESSION", "TIMEZONE", "ENABLED", "NEXT RUN", "LAST RUN", "LAST EXECUTION"];

    public static Command Create(CliContext context)
    {
        var command = new Command("schedule", "Run a function on a schedule (as async calls): add, list, remove, enable, disable");
        command.Aliases.Add("schedules");
        command.Subcommands.Add(AddCommand(context));
        command.Subcommands.Add(ListCommand(context));
        command.Subcommands.Add(RemoveCommand(context));
        command.Subcommands.Add(EnableCommand(context, "enable", true));
        command.Subcommands.Add(EnableCommand(context, "disable", false));
        return command;
    }

    private static Command AddCommand(CliContext context)
    {
        var function = new Argument<string>("function") { Description = "Function name", HelpName = "FUNCTION" };
        var every = new Option<string?>("--every") { Description = "Fixed interval: 30s, 5m, 1h30m (at least 1s)", HelpName = "DURATION" };
        var cron = new Option<string?>("--cron")
        {
            Description = "5-field cron (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly", HelpName = "EXPR",
        };
        var tz = new Option<string?>("--tz") { Description = "Time zone for --cron (IANA id, e.g. Europe/Paris; default UTC)", HelpName = "ZONE" };
        var data = new Option<string?>("--data", "-d") { Description = "JSON payload for every run (default {})", HelpName = "JSON" };
        var disabled = new Option<bool>("--disabled") { Description = "Create it disabled" };
        var command = new Command("add", "Create a schedule and print it (with its next run)") { function, every, cron, tz, data, disabled };
        command.Validators.Add(result =>
        {
            if ((result.GetResult(every) is null) == (result.GetResult(cron) is null)) result.AddError("give exactly one of --every or --cron");
        });
        command.SetAction(async (result, ct) =>
        {
            var payload = PayloadReader.Read(result.GetValue(data), null, null);
            var every1 = result.GetValue(every);
            var body = new JsonObject
            {
                ["function"] = result.GetValue(function),
                ["expression"] = every1 is not null ? "@every " + every1 : result.GetValue(cron),
                ["payload"] = JsonNode.Parse(payload),
            };
            if (result.GetValue(tz) is { } zone) body["timezone"] = zone;
            if (result.GetValue(disabled)) body["enabled"] = false;
            using var client = context.CreateClient(result);
            WriteOne(context, result, await client.CreateScheduleAsync(body, ct));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ListCommand(CliContext context)
    {
        var function = new Argument<string?>("function") { Description = "Only this function's schedules", HelpName = "FUNCTION", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("list", "List schedules with their next and last runs") { function };
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            var list = await client.ListSchedulesAsync(result.GetValue(function), ct);
            if (WriteStructured(context, result, list)) return ExitCodes.Success;
            var schedules = (list as JsonObject)?["schedules"] as JsonArray ?? [];
            TableWriter.Write(context.Stdout, Headers, schedules.Select(Row));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command RemoveCommand(CliContext context)
    {
        var id = new Argument<string>("id") { Description = "Schedule id", HelpName = "ID" };
        var command = new Command("remove", "Delete a schedule") { id };
        command.Aliases.Add("delete");
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            await client.DeleteScheduleAsync(result.GetValue(id)!, ct);
            context.Stdout.WriteLine($"removed schedule {result.GetValue(id)}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command EnableCommand(CliContext context, string name, bool enabled)
    {
        var id = new Argument<string>("id") { Description = "Schedule id", HelpName = "ID" };
        var command = new Command(name, enabled ? "Enable a schedule (its next run is computed from now)" : "Disable a schedule") { id };
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            WriteOne(context, result, await client.UpdateScheduleAsync(result.GetValue(id)!, new JsonObject { ["enabled"] = enabled }, ct));
            return ExitCodes.Success;
        });
        return command;
    }

    private static void WriteOne(CliContext context, ParseResult result, JsonNode schedule)
    {
        if (WriteStructured(context, result, schedule)) return;
        TableWriter.Write(context.Stdout, Headers, [Row(schedule)]);
    }

    private static string[] Row(JsonNode? s) =>
    [
        FunctionView.Text(s?["id"]), FunctionView.Text(s?["function"]), FunctionView.Text(s?["expression"]),
        FunctionView.Text(s?["timezone"]), FunctionView.Text(s?["enabled"]), FunctionView.Text(s?["nextRunAt"]),
        FunctionView.Text(s?["lastRunAt"]), FunctionView.Text(s?["lastExecutionId"]),
    ];

    private static bool WriteStructured(CliContext context, ParseResult result, JsonNode node)
    {
        switch (context.Global.GetOutput(result))
        {
            case OutputFormat.Json:
                context.Stdout.WriteLine(JsonText.Format(node));
                return true;
            case OutputFormat.Yaml:
                context.Stdout.WriteLine(YamlText.Format(node));
                return true;
            default:
                return false;
        }
    }
}
