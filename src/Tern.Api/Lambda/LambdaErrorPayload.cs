using System.Text.Encodings.Web;
using System.Text.Json;
using Tern.Core.Invocations;

namespace Tern.Api.Lambda;

/// <summary>The body of a failed Invoke (with X-Amz-Function-Error: Unhandled), as Lambda writes it:
/// {"errorMessage": ..., "errorType": ..., "stackTrace": [...]}. The one place Tern's InvocationError becomes Lambda's
/// error payload: the handler's own exception (type, message, user frames) when its bootstrap reported one, else Tern's
/// code and message (the code mapped to the errorType Lambda uses for the same failure).</summary>
internal static class LambdaErrorPayload
{
    /// <summary>Quotes and angle brackets as themselves (the body is JSON, never HTML): tracebacks stay readable.</summary>
    internal static readonly JsonWriterOptions RelaxedJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] From(InvocationError? error, double timeoutSeconds)
    {
        var code = error?.Code ?? InvocationError.HandlerFailed;
        var message = error?.Message ?? "the function failed";
        var (type, text) = code switch
        {
            InvocationError.Timeout => ("Sandbox.Timedout", $"Task timed out after {timeoutSeconds:0.00} seconds"),
            InvocationError.OutOfMemory => ("Runtime.OutOfMemory", message),
            InvocationError.HandlerNotFound => ("Runtime.HandlerNotFound", message),
            InvocationError.HandlerLoadFailed => ("Runtime.ImportModuleError", message),
            InvocationError.WorkerCrashed or InvocationError.HandlerCrashed or InvocationError.ProcessLimit => ("Runtime.ExitError", message),
            InvocationError.OutputTooLarge => ("Function.ResponseSizeTooLarge", message),
            InvocationError.PayloadTooLarge => ("RequestEntityTooLarge", message),
            _ => (code, message),
        };
        if (error?.ErrorType is { } handlerType) (type, text) = (handlerType, error.ErrorMessage ?? "");
        using var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer, RelaxedJson))
        {
            json.WriteStartObject();
            json.WriteString("errorMessage", text);
            json.WriteString("errorType", type);
            json.WriteStartArray("stackTrace");
            foreach (var frame in error?.StackTrace ?? []) json.WriteStringValue(frame);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
