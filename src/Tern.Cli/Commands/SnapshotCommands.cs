using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Tern.Cli.Output;

namespace Tern.Cli.Commands;

/// <summary>`tern snapshot list|create|delete NAME`: the saved VM states a microvm function's cold starts restore from.</summary>
internal static class SnapshotCommands
{
    public static Command Create(CliContext context)
    {
        var command = new Command("snapshot", "List, make or delete a microvm function's VM snapshots");
        command.Aliases.Add("snapshots");

        var listName = FunctionArg();
        var list = new Command("list", "List the function's snapshots") { listName };
        list.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            var body = await client.ListSnapshotsAsync(result.GetValue(listName)!, ct);
            if (WriteStructured(context, result, body)) return ExitCodes.Success;
            var snapshots = body["snapshots"] as JsonArray ?? [];
            TableWriter.Write(context.Stdout, ["KEY", "CODE HASH", "SIZE", "BOOT", "SAVE", "ACCELERATOR", "CREATED"], snapshots.Select(s => (IReadOnlyList<string>)
            [
                Short(FunctionView.Text(s?["key"])), Short(FunctionView.Text(s?["codeHash"])), Megabytes(s?["bytes"]),
                Seconds(s?["bootSeconds"]), Seconds(s?["saveSeconds"]), FunctionView.Text(s?["accelerator"]), FunctionView.Text(s?["createdAt"]),
            ]));
            return ExitCodes.Success;
        });

        var createName = FunctionArg();
        var create = new Command("create", "Boot the function's VM now and save its state (replaces older snapshots)") { createName };
        create.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            var body = await client.CreateSnapshotAsync(result.GetValue(createName)!, ct);
            if (!WriteStructured(context, result, body))
                context.Stdout.WriteLine($"snapshot {Short(FunctionView.Text(body["key"]))} of {FunctionView.Text(body["function"])}: {Megabytes(body["bytes"])}, " +
                    $"boot {Seconds(body["bootSeconds"])}, saved in {Seconds(body["saveSeconds"])} ({FunctionView.Text(body["accelerator"])})");
            return ExitCodes.Success;
        });

        var deleteName = FunctionArg();
        var delete = new Command("delete", "Delete the function's snapshots (the next cold start boots)") { deleteName };
        delete.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            var body = await client.DeleteSnapshotsAsync(result.GetValue(deleteName)!, ct);
            if (!WriteStructured(context, result, body)) context.Stdout.WriteLine($"deleted {FunctionView.Text(body["deleted"])} snapshot(s)");
            return ExitCodes.Success;
        });

        command.Subcommands.Add(list);
        command.Subcommands.Add(create);
        command.Subcommands.Add(delete);
        return command;
    }

    private static Argument<string> FunctionArg() => new("name") { Description = "Function name", HelpName = "NAME" };

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;

    private static string Megabytes(JsonNode? bytes) =>
        bytes is JsonValue v && v.TryGetValue<long>(out var n) ? (n / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MB" : "";

    private static string Seconds(JsonNode? seconds) =>
        seconds is JsonValue v && v.TryGetValue<double>(out var s) ? s.ToString("0.000", CultureInfo.InvariantCulture) + " s" : "";

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
