namespace Tern.Core.Functions;

/// <summary>User input for create and update: every field optional, so the same shape serves
/// a full create (defaults fill the gaps) and a partial PATCH (absent fields stay as they are). An unknown field is
/// an error (a typo such as memorySize would otherwise be silently ignored).</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed class FunctionSettings
{
    public string? Name { get; set; }
    public string? Runtime { get; set; }
    public string? Handler { get; set; }
    /// <summary>Base64 of a zip archive (recognised by its magic bytes) or of a single file.</summary>
    public string? Code { get; set; }
    public string? CodeFileName { get; set; }
    public int? MemoryMb { get; set; }
    public int? Vcpus { get; set; }
    public int? TimeoutMs { get; set; }
    public Dictionary<string, string>? Env { get; set; }
    public string? Mode { get; set; }
    public int? MinReplicas { get; set; }
    public int? MaxReplicas { get; set; }
    public int? Concurrency { get; set; }
    public int? InstanceConcurrency { get; set; }
    public int? QueueSize { get; set; }
    public int? MaxRetries { get; set; }
    public string? Isolation { get; set; }
    /// <summary>1..MaxRateLimitPerSecond; 0 removes the function's own limit.</summary>
    public int? RateLimitPerSecond { get; set; }
    /// <summary>"none", "egress" or {"mode": "egress", "allow": [...]}; replaces the whole network setting.</summary>
    public FunctionNetwork? Network { get; set; }
    /// <summary>{"style": "warm"|"job"}, only with isolation kubernetes; replaces the whole setting.</summary>
    public FunctionKubernetes? Kubernetes { get; set; }
}
