namespace Tern.Core.Functions;

/// <summary>A registered function as stored: immutable; an update produces a new instance with a higher Revision.</summary>
public sealed record FunctionDefinition
{
    public required string Name { get; init; }
    public required string Runtime { get; init; }
    public required string Handler { get; init; }
    public required string CodeHash { get; init; }
    /// <summary>Set when the code is a single file rather than a zip: the name it is mounted under.</summary>
    public string? CodeFileName { get; init; }
    public int MemoryMb { get; init; } = FunctionLimits.DefaultMemoryMb;
    public int Vcpus { get; init; } = FunctionLimits.DefaultVcpus;
    public int TimeoutMs { get; init; } = FunctionLimits.DefaultTimeoutMs;
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();
    public string Mode { get; init; } = ExecutionModes.Process;
    public int MinReplicas { get; init; }
    public int MaxReplicas { get; init; } = FunctionLimits.DefaultMaxReplicas;
    public int Concurrency { get; init; } = FunctionLimits.DefaultConcurrency;
    /// <summary>Calls one worker serves at once (Node and .NET handlers can take more than one).</summary>
    public int InstanceConcurrency { get; init; } = FunctionLimits.DefaultInstanceConcurrency;
    public int QueueSize { get; init; } = FunctionLimits.DefaultQueueSize;
    public int MaxRetries { get; init; } = FunctionLimits.DefaultMaxRetries;
    public string Isolation { get; init; } = FunctionLimits.DefaultIsolation;
    /// <summary>Calls admitted per second for this function (a token bucket, burst = one second's worth), on top of
    /// the global limit; null means no limit of its own.</summary>
    public int? RateLimitPerSecond { get; init; }
    /// <summary>none (default: no network) or egress with its allow list; part of what selects and starts a worker.
    /// A definition stored before this field existed deserializes with null here (source-generated JSON sets every
    /// init-only property, absent ones to null), which reads as none.</summary>
    public FunctionNetwork Network { get => _network; init => _network = value ?? FunctionNetwork.None; }
    private readonly FunctionNetwork _network = FunctionNetwork.None;
    /// <summary>Only with isolation kubernetes: warm pods (null, the default) or a Job per call.</summary>
    public FunctionKubernetes? Kubernetes { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>The configuration revision: 1 when created, +1 on every update. Not a published version (those are
    /// immutable snapshots numbered by FunctionVersions), and not the label a call ran under ("$LATEST", "3").</summary>
    public int Revision { get; init; } = 1;

    /// <summary>The revision under its old JSON name, "version": still written (clients of the previous release read it)
    /// and read (definitions stored before the rename have only it). Deprecated; remove in the API's next major version.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("version")]
    public int LegacyVersion { get => Revision; init => Revision = value; }
}
