using System.Text.Json.Serialization;

namespace Tern.Core.Invocations;

/// <summary>Why a call did not succeed. Codes are stable strings callers can switch on. When a Lambda-style bootstrap
/// (or a line-protocol handler) reported the handler's exception, <see cref="ErrorType"/>, <see cref="ErrorMessage"/>
/// and <see cref="StackTrace"/> carry it in Lambda's shape (the user's frames only); otherwise they are absent.</summary>
public sealed record InvocationError(string Code, string Message)
{
    public const string HandlerFailed = "HandlerFailed";
    public const string Timeout = "Timeout";
    public const string OutOfMemory = "OutOfMemory";
    public const string OutputTooLarge = "OutputTooLarge";
    public const string WorkerCrashed = "WorkerCrashed";
    public const string HandlerNotFound = "HandlerNotFound";
    public const string HandlerCrashed = "HandlerCrashed";
    public const string HandlerLoadFailed = "HandlerLoadFailed";
    public const string PayloadTooLarge = "PayloadTooLarge";
    public const string ProcessLimit = "ProcessLimit";

    /// <summary>The exception's type as the runtime names it ("KeyError", "TypeError", "java.lang.IllegalStateException").</summary>
    [JsonPropertyName("errorType")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ErrorType { get; init; }

    /// <summary>The exception's own message, without its type or stack.</summary>
    [JsonPropertyName("errorMessage")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ErrorMessage { get; init; }

    /// <summary>The stack, one frame a line, innermost first, the bootstrap's own frames left out.</summary>
    [JsonPropertyName("stackTrace")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? StackTrace { get; init; }
}
