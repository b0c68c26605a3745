namespace Tern.Core.Functions;

/// <summary>How a function with isolation kubernetes runs (docs/kubernetes.md): "warm" (the default) keeps pods of a
/// Deployment that serve call after call; "job" creates one Kubernetes Job per call, whose pod runs the handler once and
/// reports the result to the control plane. Unknown fields are refused, as for the function itself.</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record FunctionKubernetes
{
    public const string WarmStyle = "warm";
    public const string JobStyle = "job";

    public string Style { get; init; } = WarmStyle;

    public static bool IsKnownStyle(string? style) => style is WarmStyle or JobStyle;
}
