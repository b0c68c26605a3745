using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Tern.Bootstrap;

/// <summary>The handler named Assembly::Namespace.Class::Method, loaded from /code once. The method may be static or
/// an instance method (one instance, built with the public parameterless constructor), sync or returning
/// Task / Task&lt;T&gt; / ValueTask / ValueTask&lt;T&gt;. Its first parameter gets the event (JsonElement, string, Stream,
/// object, or any type System.Text.Json can deserialize into, web defaults: case-insensitive), its optional second the
/// call's context (see <see cref="CallContext.Bind"/>). The result is serialized with System.Text.Json (web defaults:
/// camelCase); a string result is a JSON string, a Stream's bytes are the output as they are.</summary>
internal sealed class HandlerInvoker
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly MethodInfo _method;
    private readonly object? _target;
    private readonly Type[] _parameters;
    private readonly PropertyInfo? _taskResult;
    private readonly MethodInfo? _valueTaskAsTask;

    private HandlerInvoker(MethodInfo method, object? target)
    {
        _method = method;
        _target = target;
        _parameters = method.GetParameters().Select(p => p.ParameterType).ToArray();
        var returns = method.ReturnType;
        if (returns.IsGenericType && returns.GetGenericTypeDefinition() == typeof(Task<>))
            _taskResult = returns.GetProperty(nameof(Task<int>.Result));
        if (returns.IsGenericType && returns.GetGenericTypeDefinition() == typeof(ValueTask<>))
        {
            _valueTaskAsTask = returns.GetMethod(nameof(ValueTask<int>.AsTask));
            _taskResult = typeof(Task<>).MakeGenericType(returns.GetGenericArguments()).GetProperty(nameof(Task<int>.Result));
        }
    }

    public static HandlerInvoker Load(string handler, string codeDir)
    {
        var parts = handler.Split("::");
        if (parts.Length != 3 || parts.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException($"handler '{handler}' must look like Assembly::Namespace.Class::Method");
        var (assemblyName, typeName, methodName) = (parts[0], parts[1], parts[2]);
        var path = Path.Combine(codeDir, assemblyName + ".dll");
        if (!File.Exists(path)) throw new FileNotFoundException($"{assemblyName}.dll is not in the code package", path);

        var loadContext = new HandlerLoadContext(path);
        var assembly = loadContext.LoadFromAssemblyPath(path);
        loadContext.EnterContextualReflection(); // Type.GetType and friends in the handler resolve from /code too
        var type = assembly.GetType(typeName, throwOnError: false)
            ?? throw new TypeLoadException($"type '{typeName}' is not in {assemblyName}.dll");
        var method = type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance)
            .Where(m => m.Name == methodName && !m.IsGenericMethodDefinition && m.GetParameters().Length <= 2)
            .OrderByDescending(m => m.GetParameters().Length)
            .FirstOrDefault()
            ?? throw new MissingMethodException($"{typeName} has no public method '{methodName}' taking at most two parameters");
        var target = method.IsStatic ? null : Activator.CreateInstance(type);
        return new HandlerInvoker(method, target);
    }

    /// <summary>Runs one call; returns the output as JSON bytes (null for no result).</summary>
    public async Task<byte[]?> InvokeAsync(JsonElement evt, CallContext context)
    {
        var args = new object?[_parameters.Length];
        if (args.Length > 0) args[0] = BindEvent(evt, _parameters[0]);
        if (args.Length > 1) args[1] = context.Bind(_parameters[1]);

        var result = _method.Invoke(_target, args);
        if (_valueTaskAsTask is not null && result is not null) result = _valueTaskAsTask.Invoke(result, null);
        switch (result)
        {
            case Task task:
                await task.ConfigureAwait(false);
                result = _taskResult?.GetValue(task);
                break;
            case ValueTask valueTask:
                await valueTask.ConfigureAwait(false);
                result = null;
                break;
        }
        return Serialize(result);
    }

    private static object? BindEvent(JsonElement evt, Type type)
    {
        if (evt.ValueKind == JsonValueKind.Undefined) return type.IsValueType ? Activator.CreateInstance(type) : null;
        if (type == typeof(JsonElement) || type == typeof(JsonElement?) || type == typeof(object)) return evt.Clone();
        if (type == typeof(string)) return evt.ValueKind == JsonValueKind.String ? evt.GetString() : evt.GetRawText();
        if (type == typeof(Stream) || type == typeof(MemoryStream)) return new MemoryStream(Encoding.UTF8.GetBytes(evt.GetRawText()), writable: false);
        return evt.Deserialize(type, Json);
    }

    private static byte[]? Serialize(object? result)
    {
        switch (result)
        {
            case null:
                return null;
            case Stream stream:
            {
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                var bytes = copy.ToArray();
                try
                {
                    using var _ = JsonDocument.Parse(bytes);
                    return bytes;
                }
                catch (JsonException)
                {
                    return JsonSerializer.SerializeToUtf8Bytes(Encoding.UTF8.GetString(bytes), Json);
                }
            }
            default:
                try
                {
                    return JsonSerializer.SerializeToUtf8Bytes(result, result.GetType(), Json);
                }
                catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException)
                {
                    throw new MarshalException($"Unable to serialize the handler's {result.GetType().Name} result: {e.Message}", e);
                }
        }
    }

    public static Exception Unwrap(Exception e)
    {
        while (e is TargetInvocationException { InnerException: { } inner }) e = inner;
        return e is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerExceptions[0]) : e;
    }
}

internal sealed class MarshalException(string message, Exception inner) : Exception(message, inner);
