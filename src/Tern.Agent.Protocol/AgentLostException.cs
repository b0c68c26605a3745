namespace Tern.Agent.Protocol;

/// <summary>The agent went away (the worker died, was killed, or broke the protocol) before answering.</summary>
public sealed class AgentLostException(string message, Exception? inner = null) : IOException(message, inner);
