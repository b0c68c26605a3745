using Tern.Core.Functions;
using System.CommandLine;

namespace Tern.Cli.Commands;

/// <summary>create (register), list, get, update and delete: the /v1/functions resource.</summary>
internal static class FunctionCommands
{
    public static IEnumerable<Command> Create(CliContext context) =>
        [CreateCommand(context), ListCommand(context), GetCommand(context), UpdateCommand(context), DeleteCommand(context)];

    private static Argument<string> NameArgument() => new("name") { Description = "Function name", HelpName = "NAME" };

    private static Command CreateCommand(CliContext context)
    {
        var name = NameArgument();
        var settings = new FunctionOptions(forCreate: true);
        var command = new Command("create", "Register a new function") { name };
        command.Aliases.Add("register");
        settings.AddTo(command);
        command.SetAction(async (result, ct) =>
        {
            // Package the code before connecting, so a bad path fails fast and locally.
            var request = settings.ToRequest(result, result.GetValue(name));
            using var client = context.CreateClient(result);
            context.CreateOutput(result).WriteFunction(await client.CreateAsync(request, ct));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ListCommand(CliContext context)
    {
        var command = new Command("list", "List functions");
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            context.CreateOutput(result).WriteFunctionList(await client.ListAsync(ct));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command GetCommand(CliContext context)
    {
        var name = NameArgument();
        var command = new Command("get", "Show one function") { name };
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            context.CreateOutput(result).WriteFunction(await client.GetAsync(result.GetValue(name)!, ct));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command UpdateCommand(CliContext context)
    {
        var name = NameArgument();
        var settings = new FunctionOptions(forCreate: false);
        var command = new Command("update", "Change a function's settings or code (only the options given)") { name };
        settings.AddTo(command);
        command.SetAction(async (result, ct) =>
        {
            var request = settings.ToRequest(result, name: null);
            if (FunctionOptions.IsEmptyUpdate(request))
                throw new CliException("nothing to update: give at least one option, e.g. --memory 256 or --code PATH", ExitCodes.Usage);
            using var client = context.CreateClient(result);
            context.CreateOutput(result).WriteFunction(await client.UpdateAsync(result.GetValue(name)!, request, ct));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command DeleteCommand(CliContext context)
    {
        var name = NameArgument();
        var command = new Command("delete", "Delete a function") { name };
        command.SetAction(async (result, ct) =>
        {
            var functionName = result.GetValue(name)!;
            using var client = context.CreateClient(result);
            await client.DeleteAsync(functionName, ct);
            context.Stdout.WriteLine($"deleted {functionName}");
            return ExitCodes.Success;
        });
        return command;
    }
}
