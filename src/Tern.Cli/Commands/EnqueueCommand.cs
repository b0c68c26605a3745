using System.CommandLine;
using Tern.Cli.Client;

namespace Tern.Cli.Commands;

/// <summary>`tern enqueue NAME [-d JSON | -f FILE] [--callback-url URL]`: an async call. The daemon commits it
/// before answering 202, so the printed executionId survives a daemon crash; follow it with `tern exec get ID --watch`.</summary>
internal static class EnqueueCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "Function name", HelpName = "NAME" };
        var data = new Option<string>("--data", "-d") { Description = "JSON payload", HelpName = "JSON" };
        var file = new Option<string>("--file", "-f") { Description = "Read the JSON payload from a file ('-' for stdin)", HelpName = "FILE" };
        var callback = new Option<string>("--callback-url")
        {
            Description = "POST the finished execution record to this http(s) URL", HelpName = "URL",
        };
        var command = new Command("enqueue", "Queue an async call and print its execution id (payload: -d, -f, piped stdin, or {})")
        {
            name, data, file, callback,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(data) is not null && result.GetResult(file) is not null)
                result.AddError("give either -d/--data or -f/--file, not both");
            if (result.GetResult(callback) is not null && !IsHttpUrl(result.GetValue(callback)))
                result.AddError($"--callback-url must be an absolute http:// or https:// URL, not '{result.GetValue(callback)}'");
        });
        command.SetAction(async (result, ct) =>
        {
            var payload = PayloadReader.Read(result.GetValue(data), result.GetValue(file), context.Stdin);
            using var client = context.CreateClient(result);
            var accepted = await client.EnqueueAsync(result.GetValue(name)!, payload, result.GetValue(callback), ct);
            context.CreateOutput(result).WriteAccepted(accepted);
            return ExitCodes.Success;
        });
        return command;
    }

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
