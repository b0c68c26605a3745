using System.CommandLine;
using Tern.Cli.Output;

namespace Tern.Cli.Commands;

/// <summary>`tern apikey create NAME [--role R] [--rate-limit N]` (prints the key, once), `tern apikey list`,
/// `tern apikey revoke ID`.</summary>
internal static class ApiKeyCommands
{
    public static Command Create(CliContext context)
    {
        var command = new Command("apikey", "Create, list and revoke API keys");
        command.Aliases.Add("api-keys");
        command.Subcommands.Add(CreateCommand(context));
        command.Subcommands.Add(ListCommand(context));
        command.Subcommands.Add(RevokeCommand(context));
        return command;
    }

    private static Command CreateCommand(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "What the key is for (e.g. ci)", HelpName = "NAME" };
        var rateLimit = new Option<int?>("--rate-limit") { Description = "Requests per second this key may make (default: no per-key limit)", HelpName = "N" };
        rateLimit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0) result.AddError("--rate-limit must be 0 (none) or more");
        });
        var role = new Option<string?>("--role")
        {
            Description = "read, invoke, deploy or admin (default: the role of the key you use); at most your own", HelpName = "ROLE",
        };
        role.AcceptOnlyFromAmong("read", "invoke", "deploy", "admin");
        var command = new Command("create", "Create an API key; prints it, and it is never shown again") { name, role, rateLimit };
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            var created = await client.CreateApiKeyAsync(result.GetValue(name)!, result.GetValue(role), result.GetValue(rateLimit), ct);
            ApiKeyOutput.WriteCreated(context.Global.GetOutput(result), context.Stdout, context.Stderr, created);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ListCommand(CliContext context)
    {
        var command = new Command("list", "List API keys (ids and names; never the keys)");
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            ApiKeyOutput.WriteList(context.Global.GetOutput(result), context.Stdout, await client.ListApiKeysAsync(ct));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command RevokeCommand(CliContext context)
    {
        var id = new Argument<string>("id") { Description = "The key's id (from list)", HelpName = "ID" };
        var command = new Command("revoke", "Revoke an API key: it stops working at once") { id };
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            await client.RevokeApiKeyAsync(result.GetValue(id)!, ct);
            context.Stdout.WriteLine($"API key {result.GetValue(id)} revoked");
            return ExitCodes.Success;
        });
        return command;
    }
}
