using System.Text;
using System.Text.Json;
using Tern.Bootstrap;

// Tern persistent-mode bootstrap for .NET:
//   dotnet Tern.Bootstrap.dll Assembly::Namespace.Class::Method
// Loads the handler once, says {"ready":true}, then serves Tern's line protocol (docs/persistent-mode.md):
// one JSON request per stdin line, one JSON answer per stdout line, calls running concurrently.
// The protocol keeps the real stdout; Console.Out (the handler's) becomes stderr, Console.In empty.
var protocolOut = new ProtocolWriter(Console.OpenStandardOutput());
var protocolIn = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false), false, 64 * 1024);
Console.SetOut(Console.Error);
Console.SetIn(TextReader.Null);

if (Environment.GetEnvironmentVariable("AWS_EXECUTION_ENV") == "AWS_Lambda_dotnet") // the agent's; Lambda's names carry the version
    Environment.SetEnvironmentVariable("AWS_EXECUTION_ENV", $"AWS_Lambda_dotnet{Environment.Version.Major}");

var handlerName = args.Length > 0 ? args[0] : Environment.GetEnvironmentVariable("TERN_HANDLER") ?? "";
HandlerInvoker handler;
try
{
    handler = HandlerInvoker.Load(handlerName, "/code");
}
catch (Exception e)
{
    e = HandlerInvoker.Unwrap(e);
    Console.Error.WriteLine(e);
    protocolOut.WriteReady(e.GetType().Name, e.Message);
    return 1;
}
protocolOut.WriteReady(null, null);

while (protocolIn.ReadLine() is { } line)
{
    if (string.IsNullOrWhiteSpace(line)) continue;
    _ = Task.Run(() => ServeAsync(line));
}
return 0;

async Task ServeAsync(string line)
{
    string? requestId = null;
    try
    {
        using var request = JsonDocument.Parse(line);
        var root = request.RootElement;
        requestId = root.GetProperty("requestId").GetString();
        var evt = root.TryGetProperty("event", out var e) ? e : default;
        var context = root.TryGetProperty("context", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        var output = await handler.InvokeAsync(evt, new CallContext(context));
        protocolOut.WriteOutput(requestId, output);
    }
    catch (Exception e)
    {
        e = HandlerInvoker.Unwrap(e);
        Console.Error.WriteLine(e);
        var frames = HandlerFrames(e.StackTrace);
        protocolOut.WriteError(requestId, e is MarshalException ? "MarshalError" : e.GetType().Name, e.Message,
            string.Join('\n', frames), [.. frames.Select(f => f.Trim()).Where(f => f.StartsWith("at ", StringComparison.Ordinal))]);
    }
}

// The stack down to the handler: the bootstrap's own frames say nothing to the function's author.
static string[] HandlerFrames(string? stack) => stack is null ? [] : [.. stack.Split('\n')
    .Select(l => l.TrimEnd('\r'))
    .TakeWhile(l => !l.TrimStart().StartsWith("at Tern.Bootstrap.", StringComparison.Ordinal)
        && !l.TrimStart().StartsWith("at Program.", StringComparison.Ordinal)
        && !l.TrimStart().StartsWith("at System.Reflection.", StringComparison.Ordinal))];
