namespace Tern.Pools;

public sealed class PoolOptions
{
    /// <summary>An idle worker above minReplicas is stopped after this long.</summary>
    public TimeSpan IdleTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often idle workers are pinged; a worker that does not answer is evicted.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a new worker's agent may take to load the handler (Init) before the start counts as failed.</summary>
    public TimeSpan InitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Spare, code-less workers kept ready per driver so a cold start skips the sandbox boot (0: off).</summary>
    public int TemplatesPerDriver { get; set; } = 2;

    /// <summary>Largest agent frame; bigger events or answers fail only their own call.</summary>
    public int MaxMessageBytes { get; set; } =
        int.TryParse(Environment.GetEnvironmentVariable("TERN_MAX_MESSAGE_BYTES"), out var max) && max > 0 ? max
            : Tern.Agent.Protocol.AgentChannel.DefaultMaxFrameBytes;
}
