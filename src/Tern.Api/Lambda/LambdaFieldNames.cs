namespace Tern.Api.Lambda;

/// <summary>Tern's field names in validation messages, as the Lambda request names them.</summary>
internal static class LambdaFieldNames
{
    public static string For(string ternField) => ternField switch
    {
        "name" => "FunctionName",
        "runtime" => "Runtime",
        "handler" => "Handler",
        "code" or "codeFileName" => "ZipFile",
        "memoryMb" => "MemorySize",
        "timeoutMs" => "Timeout",
        "description" => "Description",
        "version" or "additionalVersion" => "FunctionVersion",
        "additionalWeight" => "RoutingConfig",
        "alias" => "Name",
        _ when ternField.StartsWith("env", StringComparison.Ordinal) => "Environment",
        _ => ternField,
    };
}
