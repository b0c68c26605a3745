namespace Greeter;

/// <summary>The event, deserialized by the bootstrap (System.Text.Json, case-insensitive names).</summary>
public sealed record Request(string? Name, bool Fail);

/// <summary>Tern persistent-mode handler: Greeter::Greeter.Function::Handler. One instance serves every call a worker
/// gets (possibly several at once, up to the function's instanceConcurrency), so its fields live across calls.</summary>
public sealed class Function
{
    private int _calls;

    public async Task<Dictionary<string, object?>> Handler(Request request, IDictionary<string, object?> context)
    {
        if (request.Fail) throw new InvalidOperationException("boom: requested failure");
        Console.WriteLine($"greeting {request.Name}"); // goes to stderr: stdout belongs to the protocol
        await Task.Yield();
        return new Dictionary<string, object?>
        {
            ["message"] = $"Hello, {request.Name ?? "world"}!",
            ["runtime"] = "dotnet",
            ["requestId"] = context["AwsRequestId"],
            ["memoryLimitInMB"] = context["MemoryLimitInMB"],
            ["calls"] = Interlocked.Increment(ref _calls),
        };
    }
}
