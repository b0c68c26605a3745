using System.Text.Json.Serialization;

namespace Tern.Cli.Client;

/// <summary>The body of POST and PATCH /v1/functions: null fields are left out, so a PATCH changes only what was given.</summary>
internal sealed class FunctionRequest
{
    public string? Name { get; set; }
    public string? Runtime { get; set; }
    public string? Handler { get; set; }
    /// <summary>Serialized as base64 by System.Text.Json.</summary>
    public byte[]? Code { get; set; }
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

    /// <summary>True when nothing but the name is set: a PATCH like that would change nothing.</summary>
    [JsonIgnore]
    public bool IsEmptyUpdate =>
        Runtime is null && Handler is null && Code is null && CodeFileName is null && MemoryMb is null && Vcpus is null
        && TimeoutMs is null && Env is null && Mode is null && MinReplicas is null && MaxReplicas is null
        && Concurrency is null && InstanceConcurrency is null && QueueSize is null && MaxRetries is null && Isolation is null;
}
