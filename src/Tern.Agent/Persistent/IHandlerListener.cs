using Tern.Agent.Protocol;
using Tern.Agent.Protocol.LineProtocol;

namespace Tern.Agent.Persistent;

/// <summary>What a <see cref="HandlerProcess"/> reports, from its stdout pump thread (so: quickly, without blocking on
/// the handler's stdin).</summary>
internal interface IHandlerListener
{
    /// <summary>An answer line with a requestId.</summary>
    void OnAnswer(HandlerProcess process, AnswerLine answer);

    /// <summary>An answer line over the size limit, whose requestId could still be read.</summary>
    void OnOversizedAnswer(HandlerProcess process, string requestId, AgentError error);

    /// <summary>The process is done for (exited, closed stdout, broke the protocol, was stopped). Called once.</summary>
    void OnEnded(HandlerProcess process, AgentError error);
}
