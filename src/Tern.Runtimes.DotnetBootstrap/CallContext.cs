using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace Tern.Bootstrap;

/// <summary>One call's context, from the request line's "context" object.</summary>
internal sealed class CallContext
{
    private readonly long _deadlineMs;

    public CallContext(JsonElement context)
    {
        RequestId = Text(context, "requestId");
        FunctionName = Text(context, "functionName") ?? Environment.GetEnvironmentVariable("TERN_FUNCTION_NAME");
        FunctionVersion = Text(context, "functionVersion") ?? Environment.GetEnvironmentVariable("TERN_FUNCTION_VERSION");
        MemoryLimitMb = Number(context, "memoryLimitMb");
        _deadlineMs = Number(context, "deadlineMs");
        TraceId = Text(context, "traceId");
    }

    public string? RequestId { get; }
    public string? FunctionName { get; }
    public string? FunctionVersion { get; }
    public long MemoryLimitMb { get; }
    public string? TraceId { get; }

    public TimeSpan RemainingTime => TimeSpan.FromMilliseconds(Math.Max(0, _deadlineMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

    /// <summary>The context as name/value pairs, named as the properties of Lambda's ILambdaContext.
    /// RemainingTimeMs is taken when the call starts; DeadlineMs (Unix epoch ms) stays right.</summary>
    public Dictionary<string, object?> ToDictionary() => new()
    {
        ["AwsRequestId"] = RequestId,
        ["FunctionName"] = FunctionName,
        ["FunctionVersion"] = FunctionVersion,
        ["InvokedFunctionArn"] = $"arn:tern:function:{FunctionName}:{FunctionVersion}",
        ["MemoryLimitInMB"] = (int)MemoryLimitMb,
        ["LogGroupName"] = Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_GROUP_NAME") ?? $"/tern/function/{FunctionName}",
        ["LogStreamName"] = Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_STREAM_NAME")
            ?? $"{DateTime.UtcNow:yyyy/MM/dd}/[{FunctionVersion}]{Environment.ProcessId}",
        ["TraceId"] = TraceId,
        ["DeadlineMs"] = _deadlineMs,
        ["RemainingTimeMs"] = (long)RemainingTime.TotalMilliseconds,
    };

    /// <summary>What the handler's second parameter gets, by its declared type: the dictionary for
    /// Dictionary&lt;string, object?&gt; and anything it is assignable to (IDictionary, IReadOnlyDictionary, object);
    /// a JsonElement of the same; for an interface (such as Amazon.Lambda.Core's ILambdaContext) a proxy whose
    /// properties answer by name (Logger writes to stderr); for any other type, the same JSON deserialized into it.</summary>
    public object? Bind(Type type)
    {
        if (type.IsAssignableFrom(typeof(Dictionary<string, object?>))) return ToDictionary();
        if (type == typeof(JsonElement)) return JsonSerializer.SerializeToElement(ToDictionary(), HandlerInvoker.Json);
        if (type.IsInterface) return ContextProxy.Create(type, this);
        return JsonSerializer.SerializeToElement(ToDictionary(), HandlerInvoker.Json).Deserialize(type, HandlerInvoker.Json);
    }

    private static string? Text(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()
            : null;

    private static long Number(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n)
            ? n : 0;
}

/// <summary>Implements a context interface the handler declares (ILambdaContext or its own): property getters are
/// answered from <see cref="CallContext.ToDictionary"/> by name (RemainingTime live); a Logger property returns a
/// proxy whose Log* methods write to stderr; anything else returns its type's default.</summary>
public class ContextProxy : DispatchProxy
{
    private CallContext? _call;
    private Dictionary<string, object?>? _values;
    private bool _logger;

    internal static object Create(Type contract, CallContext call, bool logger = false)
    {
        var proxy = DispatchProxy.Create(contract, typeof(ContextProxy));
        var self = (ContextProxy)proxy;
        self._call = call;
        self._values = call.ToDictionary();
        self._logger = logger;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        if (method is null) return null;
        var returns = method.ReturnType;
        if (_logger || method.Name.StartsWith("Log", StringComparison.Ordinal))
        {
            var text = args?.LastOrDefault(a => a is string) as string ?? string.Join(" ", args ?? []);
            Console.Error.WriteLine(text);
            return Default(returns);
        }
        if (!method.Name.StartsWith("get_", StringComparison.Ordinal)) return Default(returns);
        var name = method.Name[4..];
        if (name == "RemainingTime" && returns == typeof(TimeSpan)) return _call!.RemainingTime;
        if (name == "Logger" && returns.IsInterface) return Create(returns, _call!, logger: true);
        if (_values!.TryGetValue(name, out var value) && value is not null)
        {
            if (returns.IsInstanceOfType(value)) return value;
            try { return Convert.ChangeType(value, Nullable.GetUnderlyingType(returns) ?? returns, CultureInfo.InvariantCulture); }
            catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException) { }
        }
        return Default(returns);
    }

    private static object? Default(Type type) => type.IsValueType && type != typeof(void) ? Activator.CreateInstance(type) : null;
}
