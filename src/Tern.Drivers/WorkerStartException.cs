namespace Tern.Drivers;

/// <summary>A worker could not be started: a platform failure, not the handler's fault.</summary>
public sealed class WorkerStartException(string message, Exception? inner = null) : Exception(message, inner);
