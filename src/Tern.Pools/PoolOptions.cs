using System.ComponentModel.DataAnnotations;
using Tern.Core.Settings;

namespace Tern.Pools;

/// <summary>Warm pools (section "pools").</summary>
public sealed class PoolOptions
{
    public const string Section = "pools";

    [Setting("An idle worker above minReplicas is stopped after this long")]
    [Range(typeof(TimeSpan), "00:00:00.010", "7.00:00:00")]
    public TimeSpan IdleTtl { get; set; } = TimeSpan.FromSeconds(60);

    [Setting("How often idle workers are pinged; one that does not answer is replaced")]
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(10);

    [Setting("How long a ping may take before the worker counts as dead")]
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(2);

    [Setting("How long a new worker's agent may take to load the handler (Init) before the start counts as failed")]
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan InitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    [Setting("Spare, code-less workers kept ready per driver so a cold start skips the sandbox boot (0: off)")]
    [Range(0, 64)]
    public int TemplatesPerDriver { get; set; } = 2;

    [Setting("Largest agent frame in bytes; bigger events or answers fail only their own call", Environment = "TERN_MAX_MESSAGE_BYTES")]
    [Range(64 * 1024, 1024 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = Tern.Agent.Protocol.AgentChannel.DefaultMaxFrameBytes;
}
