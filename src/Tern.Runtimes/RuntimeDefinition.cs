namespace Tern.Runtimes;

/// <summary>How one language runtime starts a handler: in process mode (the Nova contract: the event file path is
/// argv[1], the JSON result is stdout) and in persistent mode (a long-lived process speaking the line protocol on
/// stdin/stdout, see docs/persistent-mode.md).</summary>
public sealed class RuntimeDefinition
{
    public required string Name { get; init; }

    /// <summary>The entry file used when a zip package does not name one.</summary>
    public required string DefaultHandler { get; init; }

    /// <summary>Builds argv for one call: the handler's absolute path inside the worker, the event file path, the memory limit.</summary>
    public required Func<string, string, int, string[]> ProcessCommand { get; init; }

    /// <summary>Persistent mode: argv of the long-lived handler process, from the function's handler as registered
    /// (e.g. "lambda_function.lambda_handler") and the memory limit. Null when the runtime has no persistent mode.</summary>
    public Func<string, int, string[]>? PersistentCommand { get; init; }

    /// <summary>Persistent mode: whether the handler process may be sent a call before the previous one is answered
    /// (up to the function's instanceConcurrency). When false the agent hands it one call at a time.</summary>
    public bool PersistentConcurrent { get; init; }

    /// <summary>Extra environment this runtime needs inside the sandbox (on top of the function's env).</summary>
    public Func<int, IReadOnlyDictionary<string, string>> Environment { get; init; } = _ => Empty;

    /// <summary>Persistent mode: the files (relative to /code) one of which must exist for a Lambda-style handler name,
    /// e.g. "lambda_function.lambda_handler" -> lambda_function.py. Empty when it cannot be checked from outside.</summary>
    public Func<string, string[]> PersistentEntryFiles { get; init; } = handler => [handler];

    /// <summary>Process mode: an exit code by which the runtime's own host says it stopped the handler at the call's
    /// deadline (TERN_DEADLINE_MS); the call is then reported as a timeout, as when the agent kills it.</summary>
    public int? TimeoutExitCode { get; init; }

    /// <summary>Process mode: the runtime's host takes <see cref="EndOfCallTrailer.Flag"/> and a token, and ends its stderr
    /// with the end-of-call trailer when the call is over, so the agent answers without waiting for the process's exit.</summary>
    public bool ReportsEndOfCall { get; init; }

    /// <summary>Whether the handler file itself must be executable (compiled binaries and scripts).</summary>
    public bool HandlerIsExecutable { get; init; }

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();
}
