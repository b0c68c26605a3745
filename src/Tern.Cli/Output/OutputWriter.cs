using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tern.Cli.Output;

/// <summary>Prints responses in the chosen -o format. json/yaml show the whole response as received;
/// table is the human view.</summary>
internal sealed class OutputWriter(OutputFormat format, TextWriter stdout, TextWriter stderr)
{
    public OutputFormat Format { get; } = format;

    /// <summary>One function (get, create, update): KEY VALUE lines in table form.</summary>
    public void WriteFunction(JsonNode function)
    {
        if (WriteStructured(function)) return;
        if (function is not JsonObject obj)
        {
            stdout.WriteLine(JsonText.Format(function));
            return;
        }
        TableWriter.Write(stdout, ["KEY", "VALUE"], FunctionView.Details(obj));
    }

    /// <summary>GET /v1/functions: {"functions":[...]}, one row per function in table form.</summary>
    public void WriteFunctionList(JsonNode list)
    {
        if (WriteStructured(list)) return;
        var functions = (list as JsonObject)?["functions"] as JsonArray ?? new JsonArray();
        TableWriter.Write(stdout, FunctionView.ListHeaders, functions.Select(FunctionView.ListRow));
    }

    /// <summary>An invocation result. Table form prints only the function's output (so it can be piped),
    /// or the error line on stderr. Returns the exit code: 0 only for status "success".</summary>
    public int WriteInvocation(JsonNode result)
    {
        var fields = result as JsonObject ?? new JsonObject();
        var status = FunctionView.Text(fields["status"]);
        var succeeded = status == "success";
        if (WriteStructured(result)) return succeeded ? ExitCodes.Success : ExitCodes.Failure;

        if (succeeded)
        {
            stdout.WriteLine(FormatOutput(fields["output"]));
            return ExitCodes.Success;
        }
        stderr.WriteLine("error: " + FailureLine(status, fields["error"]));
        return ExitCodes.Failure;
    }

    /// <summary>An accepted async call (enqueue, redrive). Table form prints only the executionId, so
    /// `id=$(tern enqueue f)` works; json/yaml the whole response.</summary>
    public void WriteAccepted(JsonNode accepted)
    {
        if (WriteStructured(accepted)) return;
        stdout.WriteLine(FunctionView.Text((accepted as JsonObject)?["executionId"]));
    }

    /// <summary>One execution record: KEY VALUE lines in table form.</summary>
    public void WriteExecution(JsonNode execution)
    {
        if (WriteStructured(execution)) return;
        if (execution is not JsonObject obj)
        {
            stdout.WriteLine(JsonText.Format(execution));
            return;
        }
        TableWriter.Write(stdout, ["KEY", "VALUE"], ExecutionTable.Details(obj));
    }

    /// <summary>GET /v1/executions: {"executions":[...], "nextCursor"}, one row per execution in table form; the command
    /// to fetch the next page goes to stderr, so stdout stays the table.</summary>
    public void WriteExecutionList(JsonNode list, string? nextPageCommand)
    {
        if (WriteStructured(list)) return;
        var executions = (list as JsonObject)?["executions"] as JsonArray ?? new JsonArray();
        TableWriter.Write(stdout, ExecutionTable.ListHeaders, executions.Select(ExecutionTable.ListRow));
        if (nextPageCommand is not null) stderr.WriteLine("more: " + nextPageCommand);
    }

    /// <summary>GET .../dead-letters: {"deadLetters":[...]}, one row per execution in table form.</summary>
    public void WriteDeadLetters(JsonNode list)
    {
        if (WriteStructured(list)) return;
        var executions = (list as JsonObject)?["deadLetters"] as JsonArray ?? new JsonArray();
        TableWriter.Write(stdout, ExecutionTable.DeadLetterHeaders, executions.Select(ExecutionTable.DeadLetterRow));
    }

    /// <summary>One status change seen by `exec get --watch`. On stdout in table form; on stderr for json/yaml,
    /// so stdout stays one parseable document.</summary>
    public void WriteStatusChange(JsonNode execution) =>
        (Format == OutputFormat.Table ? stdout : stderr).WriteLine(ExecutionTable.StatusLine(execution));

    /// <summary>A JSON string prints as its raw text; objects and arrays indented; other values as JSON.</summary>
    public static string FormatOutput(JsonNode? output) => output switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => JsonText.Format(output),
    };

    /// <summary>"status: code: message", leaving out the parts the server did not send.</summary>
    public static string FailureLine(string status, JsonNode? error)
    {
        var parts = new List<string> { status };
        if (error is JsonObject { } e && e["code"] is { } code) parts.Add(FunctionView.Text(code));
        if (error is JsonObject { } m && m["message"] is { } message) parts.Add(FunctionView.Text(message).ReplaceLineEndings(" "));
        return string.Join(": ", parts);
    }

    private bool WriteStructured(JsonNode node) => WriteStructured(Format, stdout, node);

    /// <summary>Writes <paramref name="node"/> as JSON or YAML; false for table output (the caller renders a table).</summary>
    internal static bool WriteStructured(OutputFormat format, TextWriter stdout, JsonNode node)
    {
        switch (format)
        {
            case OutputFormat.Json:
                stdout.WriteLine(JsonText.Format(node));
                return true;
            case OutputFormat.Yaml:
                stdout.WriteLine(YamlText.Format(node));
                return true;
            default:
                return false;
        }
    }
}
