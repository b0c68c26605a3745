using Tern.Agent.Protocol;

namespace Tern.Agent;

/// <summary>How the agent runs calls for one Init: a process per call, or one long-lived handler process.</summary>
internal interface IModeRunner : IAsyncDisposable
{
    /// <summary>Prepares the worker; null when it is ready for calls, else the error the Init reply carries
    /// (for example HandlerLoadFailed with the bootstrap's ImportError).</summary>
    Task<AgentError?> StartAsync();

    /// <summary>Starts one call and returns at once (called on the agent's frame-reading thread); the call's answer
    /// goes to <paramref name="answers"/> when it is ready. Never throws: every failure is an answer.</summary>
    void Dispatch(ExecMessage exec, AnswerWriter answers);
}
