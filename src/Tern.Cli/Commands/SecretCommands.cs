using System.CommandLine;
using Tern.Cli.Output;

namespace Tern.Cli.Commands;

/// <summary>`tern secret set NAME [--value V] [--functions a,b]` (else the value is read from stdin), `tern secret scope
/// NAME --functions a,b`, `tern secret list` and `tern secret delete NAME`. A value is sent, never printed: the daemon
/// returns only names, scopes and times.</summary>
internal static class SecretCommands
{
    public static Command Create(CliContext context)
    {
        var command = new Command("secret", "Set, list and delete secrets (use one in a function's env as $SECRET:name)");
        command.Aliases.Add("secrets");
        command.Subcommands.Add(SetCommand(context));
        command.Subcommands.Add(ScopeCommand(context));
        command.Subcommands.Add(ListCommand(context));
        command.Subcommands.Add(DeleteCommand(context));
        return command;
    }

    private static Command SetCommand(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "Secret name", HelpName = "NAME" };
        var value = new Option<string?>("--value") { Description = "The value (else read from stdin; prefer stdin, shell history keeps arguments)", HelpName = "V" };
        var functions = FunctionsOption("Functions that may use it: names, prefix-* or '*' (default: keep the current scope; a new secret gets none)");
        var command = new Command("set", "Create or replace a secret; its value is never shown again") { name, value, functions };
        command.SetAction(async (result, ct) =>
        {
            var secret = result.GetValue(value) ?? ReadStdin(context);
            using var client = context.CreateClient(result);
            var info = await client.SetSecretAsync(result.GetValue(name)!, secret, SplitScope(result.GetValue(functions)), ct);
            SecretOutput.WriteSet(context.Global.GetOutput(result), context.Stdout, info);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ScopeCommand(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "Secret name", HelpName = "NAME" };
        var functions = FunctionsOption("Functions that may use it: names, prefix-* or '*'; '' for none");
        functions.Required = true;
        var command = new Command("scope", "Set which functions may use a secret (its value is kept)") { name, functions };
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            var info = await client.SetSecretScopeAsync(result.GetValue(name)!, SplitScope(result.GetValue(functions)) ?? [], ct);
            SecretOutput.WriteSet(context.Global.GetOutput(result), context.Stdout, info);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Option<string?> FunctionsOption(string description) => new("--functions") { Description = description, HelpName = "a,b" };

    private static string[]? SplitScope(string? list) =>
        list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Command ListCommand(CliContext context)
    {
        var command = new Command("list", "List secret names (never values)");
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            SecretOutput.WriteList(context.Global.GetOutput(result), context.Stdout, await client.ListSecretsAsync(ct));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command DeleteCommand(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "Secret name", HelpName = "NAME" };
        var command = new Command("delete", "Delete a secret") { name };
        command.SetAction(async (result, ct) =>
        {
            var secretName = result.GetValue(name)!;
            using var client = context.CreateClient(result);
            await client.DeleteSecretAsync(secretName, ct);
            context.Stdout.WriteLine($"deleted secret {secretName}");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The piped-in value, without the one trailing newline `echo` adds.</summary>
    private static string ReadStdin(CliContext context)
    {
        if (context.Stdin is null) throw new CliException("give the value with --value or pipe it on stdin", ExitCodes.Usage);
        var text = context.Stdin.ReadToEnd();
        if (text.EndsWith("\r\n", StringComparison.Ordinal)) return text[..^2];
        return text.EndsWith('\n') ? text[..^1] : text;
    }
}
