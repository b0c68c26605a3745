using System.CommandLine;

namespace Tern.Cli.Commands;

/// <summary>`tern invoke NAME [-d JSON | -f FILE]`: a synchronous call; exits 0 only if the function succeeded.</summary>
internal static class InvokeCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "Function name", HelpName = "NAME" };
        var data = new Option<string>("--data", "-d") { Description = "JSON payload", HelpName = "JSON" };
        var file = new Option<string>("--file", "-f") { Description = "Read the JSON payload from a file ('-' for stdin)", HelpName = "FILE" };
        var command = new Command("invoke", "Call a function and print its output (payload: -d, -f, piped stdin, or {})")
        {
            name, data, file,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(data) is not null && result.GetResult(file) is not null)
                result.AddError("give either -d/--data or -f/--file, not both");
        });
        command.SetAction(async (result, ct) =>
        {
            var payload = PayloadReader.Read(result.GetValue(data), result.GetValue(file), context.Stdin);
            using var client = context.CreateClient(result);
            var response = await client.InvokeAsync(result.GetValue(name)!, payload, ct);
            return context.CreateOutput(result).WriteInvocation(response);
        });
        return command;
    }
}
