namespace Tern.Cli.Tests;

/// <summary>Async-call response bodies shaped like the daemon's (enqueue, execution records, dead letters).</summary>
internal static class AsyncSamples
{
    public const string Enqueued = """{"executionId":"ex-42","status":"queued"}""";

    public static string Execution(string status, int attempt = 1, string output = "null", string error = "null", string? finishedAt = null) => $$"""
        {"executionId":"ex-42","function":"hello","status":"{{status}}","attempt":{{attempt}},"output":{{output}},"error":{{error}},
         "createdAt":"2025-01-02T03:04:05.123+00:00","startedAt":{{(status == "queued" ? "null" : "\"2025-01-02T03:04:05.2+00:00\"")}},
         "finishedAt":{{(finishedAt is null ? "null" : $"\"{finishedAt}\"")}},"durationMs":{{(finishedAt is null ? "null" : "12.5")}},
         "coldStart":true,"traceId":"t-1","deadLetter":false}
        """;

    public static readonly string Succeeded = Execution("success", output: """{"message":"Hello, x!"}""", finishedAt: "2025-01-02T03:04:05.456+00:00");

    public static readonly string Failed = Execution("error", attempt: 4, error: """{"code":"HandlerFailed","message":"boom"}""",
        finishedAt: "2025-01-02T03:04:09+00:00");

    public const string DeadLetters = """
        {"deadLetters":[
         {"executionId":"ex-1","function":"hello","status":"error","attempt":4,"output":null,"error":{"code":"HandlerFailed","message":"boom"},
          "createdAt":"2025-01-02T03:00:00Z","startedAt":"2025-01-02T03:00:01Z","finishedAt":"2025-01-02T03:00:09.5Z","durationMs":3,"coldStart":false,"traceId":"a","deadLetter":true},
         {"executionId":"ex-22","function":"hello","status":"timeout","attempt":1,"output":null,"error":{"code":"Timeout","message":"took too long"},
          "createdAt":"2025-01-02T04:00:00Z","startedAt":"2025-01-02T04:00:01Z","finishedAt":"2025-01-02T04:00:31Z","durationMs":30000,"coldStart":false,"traceId":"b","deadLetter":true}]}
        """;

    public const string ExecutionNotFound = """
        {"type":"https://httpstatuses.io/404","title":"Execution not found","status":404,"detail":"execution 'nope' does not exist (or has expired)"}
        """;
}
