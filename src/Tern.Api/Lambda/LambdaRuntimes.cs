using Tern.Core.Functions;

namespace Tern.Api.Lambda;

/// <summary>Lambda runtime names onto Tern runtimes. A Lambda runtime always means persistent mode (one handler process
/// per worker, called per request with Lambda's handler conventions); the version in the name is not kept: the handler
/// runs on the interpreter or SDK installed on the host (docs/lambda.md). Answers name each Tern runtime by one
/// canonical Lambda name.</summary>
internal static class LambdaRuntimes
{
    public const string ProvidedHandler = "bootstrap";

    /// <summary>The Tern runtime for a Lambda runtime name, or null when Tern has none.</summary>
    public static string? ToTern(string lambdaRuntime) => lambdaRuntime switch
    {
        _ when lambdaRuntime.StartsWith("python3", StringComparison.Ordinal) => "python",
        _ when lambdaRuntime.StartsWith("nodejs", StringComparison.Ordinal) => "node",
        _ when lambdaRuntime.StartsWith("java", StringComparison.Ordinal) && lambdaRuntime != "java8" => "java",
        _ when lambdaRuntime.StartsWith("dotnet", StringComparison.Ordinal) && lambdaRuntime.Length > "dotnet".Length
            && char.IsAsciiDigit(lambdaRuntime["dotnet".Length]) => "dotnet",
        "provided" or "provided.al2" or "provided.al2023" => "binary",
        _ => null,
    };

    /// <summary>The name answers carry for a Tern function.</summary>
    public static string ToLambda(FunctionDefinition function) => function.Runtime switch
    {
        "python" => "python3.12",
        "node" => "nodejs20.x",
        "java" => "java21",
        "dotnet" => "dotnet8",
        "go" or "rust" or "binary" => "provided.al2023",
        _ => function.Runtime, // wasm: no Lambda runtime; Tern's own name
    };

    /// <summary>The Tern handler for a Lambda one: provided runtimes run the package's bootstrap whatever Handler says.</summary>
    public static string? Handler(string ternRuntime, string? lambdaHandler) =>
        ternRuntime == "binary" ? ProvidedHandler : lambdaHandler;

    public const string Supported = "python3.x, nodejs*.x, java11/17/21/25, dotnet6/8/10, provided, provided.al2, provided.al2023";

    public static string Check(string? runtime)
    {
        if (string.IsNullOrEmpty(runtime)) throw new LambdaException(LambdaErrorType.InvalidParameterValue, "Runtime is required (Tern runs zip packages only)");
        return ToTern(runtime) ?? throw new LambdaException(LambdaErrorType.InvalidParameterValue,
            $"Runtime '{runtime}' is not supported by Tern; supported: {Supported}");
    }
}
