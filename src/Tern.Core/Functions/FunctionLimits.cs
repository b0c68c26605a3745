namespace Tern.Core.Functions;

/// <summary>Defaults and bounds of a function's settings, in one place so the API, CLI and docs agree.</summary>
public static class FunctionLimits
{
    public const int DefaultMemoryMb = 128, MinMemoryMb = 128, MaxMemoryMb = 10240;
    public const int DefaultVcpus = 1, MinVcpus = 1, MaxVcpus = 8;
    public const int DefaultTimeoutMs = 30_000, MinTimeoutMs = 1, MaxTimeoutMs = 900_000;
    public const int DefaultConcurrency = 4, MaxConcurrency = 1000;
    public const int DefaultInstanceConcurrency = 1, MaxInstanceConcurrency = 1000;
    public const int DefaultQueueSize = 100, MaxQueueSize = 100_000;
    public const int DefaultMaxRetries = 3, MaxRetriesLimit = 10;
    public const int DefaultMaxReplicas = 10, MaxReplicasLimit = 1000;
    public const string DefaultIsolation = "sandbox";
    /// <summary>Bound of a rate limit (calls per second), per function and global; 0 means no limit.</summary>
    public const int MaxRateLimitPerSecond = 1_000_000;
    public const int MaxEnvEntries = 256;
    /// <summary>Largest event accepted by invoke, as for Lambda's synchronous payloads.</summary>
    public const int MaxEventBytes = 6 * 1024 * 1024;
    /// <summary>Largest event accepted by enqueue, as for Lambda's asynchronous payloads: an async call's event is
    /// stored with its record until the call ends, and queues hold thousands.</summary>
    public const int MaxAsyncEventBytes = 1024 * 1024;
    /// <summary>Largest code package (the upload, before unpacking), as Lambda's direct zip upload.</summary>
    public const int MaxCodeBytes = 50 * 1024 * 1024;
    /// <summary>All environment variables of a function together (names and values), as Lambda's 4 KB: the
    /// environment is also the handler's argv area, and a huge value made every start fail with E2BIG.</summary>
    public const int MaxEnvBytes = 4 * 1024;
}
