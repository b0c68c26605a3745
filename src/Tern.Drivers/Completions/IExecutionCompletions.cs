using Tern.Agent.Protocol;

namespace Tern.Drivers.Completions;

/// <summary>Results that reach the control plane over HTTP rather than over a worker's agent stream: a worker that runs
/// a call somewhere the daemon does not hold a connection to (a Kubernetes Job's pod) registers the call with a token it
/// minted, and <c>POST /v1/internal/executions/{id}:complete</c> hands the result over here.</summary>
public interface IExecutionCompletions
{
    /// <summary>Delivers the result of call <paramref name="executionId"/> if <paramref name="token"/> is the one minted
    /// for it (compared in constant time).</summary>
    CompletionOutcome Complete(string executionId, string token, RespMessage result);
}

public enum CompletionOutcome
{
    Accepted,
    /// <summary>No call with this id is waiting (never registered, or long finished).</summary>
    UnknownExecution,
    /// <summary>The token is not this call's.</summary>
    WrongToken,
    /// <summary>The call has its result already (or was given up: timed out, its worker killed).</summary>
    AlreadyCompleted,
}
