using System.CommandLine;
using System.Text.Json.Nodes;
using Tern.Cli.Output;

namespace Tern.Cli.Commands;

/// <summary>`tern status`: the daemon's readiness and each check (the store, each isolation driver with what it lacks, or
/// for microvm the accelerator VMs run under). Exit 1 when the daemon is not ready.</summary>
internal static class StatusCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("status", "Show whether the daemon is ready and what each isolation driver can do");
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            var (ready, body) = await client.ReadinessAsync(ct);
            switch (context.Global.GetOutput(result))
            {
                case OutputFormat.Json: context.Stdout.WriteLine(JsonText.Format(body)); break;
                case OutputFormat.Yaml: context.Stdout.WriteLine(YamlText.Format(body)); break;
                default:
                    context.Stdout.WriteLine($"{client.ServerUrl}: {FunctionView.Text(body["status"])}");
                    var checks = (body["checks"] as JsonObject ?? []).Select(c => (IReadOnlyList<string>)[c.Key, FunctionView.Text(c.Value)]);
                    TableWriter.Write(context.Stdout, ["CHECK", "STATE"], checks);
                    break;
            }
            return ready ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }
}
