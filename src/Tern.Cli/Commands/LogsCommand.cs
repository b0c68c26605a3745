using System.CommandLine;
using System.Text.Json.Nodes;
using Tern.Cli.Output;

namespace Tern.Cli.Commands;

/// <summary>`tern logs NAME [--execution ID] [--since TIME] [--tail N] [-f]`: what a function's handlers wrote,
/// one `time [stream] executionId text` line each (-o json: the daemon's JSON). -f follows new lines until Ctrl+C.</summary>
internal static class LogsCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "Function name", HelpName = "NAME" };
        var execution = new Option<string>("--execution", "-e") { Description = "Only this execution's lines", HelpName = "ID" };
        var since = new Option<string>("--since") { Description = "Only lines from this time on (RFC 3339)", HelpName = "TIME" };
        var tail = new Option<int?>("--tail", "-n") { Description = "Only the last N lines (with -f: shown before following)", HelpName = "N" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until Ctrl+C" };
        var command = new Command("logs", "Show a function's logs (its handlers' stdout and stderr)") { name, execution, since, tail, follow };
        command.SetAction(async (result, ct) =>
        {
            using var client = context.CreateClient(result);
            var format = context.Global.GetOutput(result);
            if (result.GetValue(follow))
            {
                try
                {
                    await foreach (var line in client.FollowLogsAsync(result.GetValue(name)!, result.GetValue(execution), result.GetValue(tail), ct))
                    {
                        context.Stdout.WriteLine(format == OutputFormat.Json ? line.ToJsonString() : Format(line));
                        await context.Stdout.FlushAsync(CancellationToken.None);
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { } // Ctrl+C ends a follow normally
                return ExitCodes.Success;
            }
            var logs = await client.GetLogsAsync(result.GetValue(name)!, result.GetValue(execution), result.GetValue(since), result.GetValue(tail), ct);
            if (format == OutputFormat.Json)
            {
                context.Stdout.WriteLine(logs.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                return ExitCodes.Success;
            }
            foreach (var line in (logs as JsonObject)?["lines"] as JsonArray ?? []) if (line is not null) context.Stdout.WriteLine(Format(line));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>`2026-01-02T15:04:05.123Z [stderr] 0192... text`.</summary>
    internal static string Format(JsonNode line)
    {
        var time = (string?)line["time"] ?? "-";
        if (DateTimeOffset.TryParse(time, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t))
            time = t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        return $"{time} [{(string?)line["stream"] ?? "-"}] {(string?)line["executionId"] ?? "-"} {(string?)line["text"]}";
    }
}
