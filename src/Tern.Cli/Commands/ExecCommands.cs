using System.CommandLine;
using System.Text.Json.Nodes;
using Tern.Cli.Output;
using Tern.Core.Executions;

namespace Tern.Cli.Commands;

/// <summary>`tern exec get ID [--watch]`: an execution record (sync or async). --watch polls until the call is
/// finished, printing each status change on one line, then the record; it exits 0 only if the call succeeded.</summary>
internal static class ExecCommands
{
    public static readonly TimeSpan DefaultWatchInterval = TimeSpan.FromMilliseconds(250);

    public static Command Create(CliContext context, TimeSpan watchInterval)
    {
        var command = new Command("exec", "Inspect executions (the records of sync and async calls)");
        command.Aliases.Add("execution");
        command.Subcommands.Add(GetCommand(context, watchInterval));
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

    private static string Status(JsonNode execution) => FunctionView.Text((execution as JsonObject)?["status"]);

    /// <summary>Finished: success, error or timeout. A record without a status cannot be watched, so it counts as finished too.</summary>
    private static bool IsTerminal(JsonNode execution) =>
        Status(execution) is var status && (status == "-" || ExecutionStatus.IsTerminal(status));
}
