using System.CommandLine;
using System.Text.Json.Nodes;
using Tern.Cli.Output;

namespace Tern.Cli.Commands;

/// <summary>`tern version publish|list NAME`, `tern alias set|list|delete NAME ...` and `tern rollback NAME ALIAS`.
/// Call a version or alias with `tern invoke NAME:3` or `tern invoke NAME:prod`.</summary>
internal static class VersionCommands
{
    public static IEnumerable<Command> Create(CliContext context) => [VersionCommand(context), AliasCommand(context), RollbackCommand(context)];

    private static Argument<string> FunctionArg() => new("name") { Description = "Function name", HelpName = "NAME" };
    private static Argument<string> AliasArg() => new("alias") { Description = "Alias name", HelpName = "ALIAS" };

    private static Command VersionCommand(CliContext context)
    {
        var command = new Command("version", "Publish and list immutable versions of a function");
        command.Aliases.Add("versions");

        var name = FunctionArg();
        var description = new Option<string?>("--description") { Description = "A note kept with the version", HelpName = "TEXT" };
        var publish = new Command("publish", "Publish the function's code and configuration as they are now as the next version") { name, description };
        publish.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            var version = await client.PublishVersionAsync(result.GetValue(name)!, result.GetValue(description), ct);
            if (!WriteStructured(context, result, version))
                context.Stdout.WriteLine($"published {FunctionView.Text(version["function"])} version {FunctionView.Text(version["version"])} (revision {FunctionView.Text(version["revision"])})");
            return ExitCodes.Success;
        });

        var listName = FunctionArg();
        var list = new Command("list", "List a function's published versions") { listName };
        list.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            var body = await client.ListVersionsAsync(result.GetValue(listName)!, ct);
            if (WriteStructured(context, result, body)) return ExitCodes.Success;
            var versions = body["versions"] as JsonArray ?? [];
            TableWriter.Write(context.Stdout, ["VERSION", "REVISION", "CODE HASH", "PUBLISHED", "DESCRIPTION"], versions.Select(v => (IReadOnlyList<string>)
            [
                FunctionView.Text(v?["version"]), FunctionView.Text(v?["revision"]), Short(FunctionView.Text(v?["definition"]?["codeHash"])),
                FunctionView.Text(v?["publishedAt"]), FunctionView.Text(v?["description"]),
            ]));
            return ExitCodes.Success;
        });
        command.Subcommands.Add(publish);
        command.Subcommands.Add(list);
        return command;
    }

    private static Command AliasCommand(CliContext context)
    {
        var command = new Command("alias", "Point names (prod, beta) at versions, optionally splitting calls between two");
        command.Aliases.Add("aliases");

        var name = FunctionArg();
        var alias = AliasArg();
        var version = new Option<int>("--version") { Description = "The version the alias points to", HelpName = "N", Required = true };
        var additional = new Option<int?>("--additional-version") { Description = "A second version that gets --weight percent of calls", HelpName = "M" };
        var weight = new Option<int?>("--weight") { Description = "Percent (0-100) of calls sent to --additional-version", HelpName = "W" };
        var set = new Command("set", "Create or change an alias") { name, alias, version, additional, weight };
        set.SetAction(async (result, ct) =>
        {
            if (result.GetValue(additional) is not null && result.GetValue(weight) is null)
                throw new CliException("--additional-version needs --weight", ExitCodes.Usage);
            using var client = context.CreateClient(result);
            var body = await client.SetAliasAsync(result.GetValue(name)!, result.GetValue(alias)!, result.GetValue(version),
                result.GetValue(additional), result.GetValue(weight), ct);
            if (!WriteStructured(context, result, body)) context.Stdout.WriteLine($"alias {FunctionView.Text(body["name"])} -> {Target(body)}");
            return ExitCodes.Success;
        });

        var listName = FunctionArg();
        var list = new Command("list", "List a function's aliases") { listName };
        list.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            var body = await client.ListAliasesAsync(result.GetValue(listName)!, ct);
            if (WriteStructured(context, result, body)) return ExitCodes.Success;
            var aliases = body["aliases"] as JsonArray ?? [];
            TableWriter.Write(context.Stdout, ["ALIAS", "VERSION", "PREVIOUS", "UPDATED"], aliases.Select(a => (IReadOnlyList<string>)
                [FunctionView.Text(a?["name"]), Target(a!), FunctionView.Text(a?["previousVersion"]), FunctionView.Text(a?["updatedAt"])]));
            return ExitCodes.Success;
        });

        var deleteName = FunctionArg();
        var deleteAlias = AliasArg();
        var delete = new Command("delete", "Delete an alias") { deleteName, deleteAlias };
        delete.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            await client.DeleteAliasAsync(result.GetValue(deleteName)!, result.GetValue(deleteAlias)!, ct);
            context.Stdout.WriteLine($"deleted alias {result.GetValue(deleteAlias)}");
            return ExitCodes.Success;
        });
        command.Subcommands.Add(set);
        command.Subcommands.Add(list);
        command.Subcommands.Add(delete);
        return command;
    }

    private static Command RollbackCommand(CliContext context)
    {
        var name = FunctionArg();
        var alias = AliasArg();
        var version = new Option<int?>("--version") { Description = "Go to this version (default: the one the alias pointed to before)", HelpName = "N" };
        var command = new Command("rollback", "Point an alias back at its previous version (or at --version)") { name, alias, version };
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            var body = await client.RollbackAliasAsync(result.GetValue(name)!, result.GetValue(alias)!, result.GetValue(version), ct);
            if (!WriteStructured(context, result, body)) context.Stdout.WriteLine($"alias {FunctionView.Text(body["name"])} -> {Target(body)}");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>"1", or "1 (70%), 2 (30%)" for a split.</summary>
    private static string Target(JsonNode alias)
    {
        var version = FunctionView.Text(alias["version"]);
        if (alias["additionalVersion"] is null) return version;
        var weight = (int?)alias["additionalWeight"] ?? 0;
        return $"{version} ({100 - weight}%), {FunctionView.Text(alias["additionalVersion"])} ({weight}%)";
    }

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;

    private static bool WriteStructured(CliContext context, ParseResult result, JsonNode node)
    {
        switch (context.Global.GetOutput(result))
        {
            case OutputFormat.Json: context.Stdout.WriteLine(JsonText.Format(node)); return true;
            case OutputFormat.Yaml: context.Stdout.WriteLine(YamlText.Format(node)); return true;
            default: return false;
        }
    }
}
