namespace Tern.Cli.Tests;

/// <summary>Response bodies shaped like the daemon's.</summary>
internal static class Samples
{
    public const string Function = """
        {"name":"hello","runtime":"python","handler":"main.py","codeHash":"abc123","codeFileName":null,
         "memoryMb":128,"vcpus":1,"timeoutMs":30000,"env":{"A":"1","GREETING":"hi there"},"mode":"process",
         "minReplicas":0,"maxReplicas":10,"concurrency":4,"queueSize":100,"maxRetries":3,"isolation":"sandbox",
         "createdAt":"2025-01-02T03:04:05.123+00:00","updatedAt":"2025-01-02T03:04:06.5+00:00","version":2}
        """;

    public const string FunctionList = """
        {"functions":[
         {"name":"hello","runtime":"python","handler":"main.py","memoryMb":128,"timeoutMs":30000,"mode":"process","version":2,"updatedAt":"2025-01-02T03:04:06+00:00"},
         {"name":"worker","runtime":"binary","handler":"bootstrap","memoryMb":1024,"timeoutMs":1500,"mode":"persistent","version":1,"updatedAt":"2025-02-01T00:00:00Z"}]}
        """;

    public const string InvokeSuccess = """
        {"executionId":"ex-1","status":"success","output":{"message":"Hello, tern!"},"error":null,"durationMs":12.5,"coldStart":true}
        """;

    public const string InvokeError = """
        {"executionId":"ex-2","status":"error","output":null,"error":{"code":"HandlerFailed","message":"handler exited with code 1: boom"},"durationMs":3,"coldStart":false}
        """;

    public const string NotFoundProblem = """
        {"type":"https://httpstatuses.io/404","title":"Function not found","status":404,"detail":"function 'nope' does not exist"}
        """;
}
