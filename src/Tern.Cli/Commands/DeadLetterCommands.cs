using System.CommandLine;

namespace Tern.Cli.Commands;

/// <summary>`tern dead-letters list FUNCTION [--limit N]` and `tern dead-letters redrive ID`: async calls that
/// failed their last retry, and running one again (same execution id, a fresh retry budget).</summary>
internal static class DeadLetterCommands
{
    public static Command Create(CliContext context)
    {
        var command = new Command("dead-letters", "List and redrive async calls that failed every attempt");
        command.Aliases.Add("dlq");
        command.Subcommands.Add(ListCommand(context));
        command.Subcommands.Add(RedriveCommand(context));
        return command;
    }

    private static Command ListCommand(CliContext context)
    {
        var function = new Argument<string>("function") { Description = "Function name", HelpName = "FUNCTION" };
        var limit = new Option<int?>("--limit") { Description = "At most this many, newest first (server default 100, max 1000)", HelpName = "N" };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1) result.AddError("--limit must be at least 1");
        });
        var command = new Command("list", "List a function's dead letters") { function, limit };
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            context.CreateOutput(result).WriteDeadLetters(await client.ListDeadLettersAsync(result.GetValue(function)!, result.GetValue(limit), ct));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command RedriveCommand(CliContext context)
    {
        var id = new Argument<string>("id") { Description = "Execution id of the dead letter", HelpName = "ID" };
        var command = new Command("redrive", "Queue a dead letter again; prints its execution id (unchanged)") { id };
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            context.CreateOutput(result).WriteAccepted(await client.RedriveAsync(result.GetValue(id)!, ct));
            return ExitCodes.Success;
        });
        return command;
    }
}
