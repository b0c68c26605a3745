namespace Tern.Agent.Protocol;

/// <summary>What an agent in one-shot mode (a Kubernetes Job's pod, docs/kubernetes.md) runs: the Init the host would
/// have sent, then the one call. The host writes it as JSON into the call's Secret (file <see cref="FileName"/>); the
/// token the result must be posted with is the Secret's file <see cref="TokenFileName"/>.</summary>
public sealed class OneShotCall
{
    public const string FileName = "call.json";
    public const string TokenFileName = "token";
    /// <summary>The directory holding both files; set on the pod, it puts the agent in one-shot mode.</summary>
    public const string DirectoryVariable = "TERN_AGENT_ONESHOT";
    /// <summary>Where the agent POSTs its result (the control plane's /v1/internal/executions/{id}:complete).</summary>
    public const string CompleteUrlVariable = "TERN_COMPLETE_URL";

    public InitMessage Init { get; set; } = new();
    public ExecMessage Exec { get; set; } = new();
}
