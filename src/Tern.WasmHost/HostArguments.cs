using System.Globalization;

namespace Tern.WasmHost;

/// <summary>The command line, the same contract wasi-runner.mjs had (plus options before the module):
/// <c>tern-wasm-host [options] MODULE.wasm EVENT_PATH</c> runs one call (process mode);
/// <c>tern-wasm-host --stdio [options] MODULE.wasm</c> runs the module once with the process's stdio as its own, so it
/// serves the line protocol itself (persistent mode).</summary>
internal sealed record HostArguments
{
    public const string Usage =
        "usage: tern-wasm-host [--memory-mb N] [--cache-dir DIR] [--trace] MODULE.wasm EVENT_PATH\n" +
        "       tern-wasm-host --stdio [--memory-mb N] [--cache-dir DIR] [--trace] MODULE.wasm";

    public required string ModulePath { get; init; }
    /// <summary>Process mode: the event file (argv[1] of the module; its directory is preopened read-only).</summary>
    public string? EventPath { get; init; }
    public bool Stdio { get; init; }
    /// <summary>The most linear memory the module may have (the function's memoryMb); null: no limit of its own.</summary>
    public long? MemoryBytes { get; init; }
    /// <summary>Where compiled modules are kept between starts; null: compile every time.</summary>
    public string? CacheDir { get; init; }
    /// <summary>Say on stderr whether the module came from the cache (for tests and benchmarks).</summary>
    public bool Trace { get; init; }

    public static HostArguments? Parse(string[] args, out string? error)
    {
        error = null;
        bool stdio = false, trace = false;
        long? memory = null;
        string? cache = null;
        var positional = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--stdio": stdio = true; break;
                case "--trace": trace = true; break;
                case "--memory-mb" when i + 1 < args.Length:
                    if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var mb) || mb <= 0)
                    {
                        error = $"--memory-mb must be a positive whole number, not '{args[i]}'";
                        return null;
                    }
                    memory = mb * 1024L * 1024L;
                    break;
                case "--cache-dir" when i + 1 < args.Length: cache = args[++i]; break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal))
                    {
                        error = $"unknown option '{args[i]}'";
                        return null;
                    }
                    positional.Add(args[i]);
                    break;
            }
        }
        if (positional.Count != (stdio ? 1 : 2))
        {
            error = Usage;
            return null;
        }
        return new HostArguments
        {
            ModulePath = positional[0], EventPath = stdio ? null : positional[1], Stdio = stdio,
            MemoryBytes = memory, CacheDir = string.IsNullOrEmpty(cache) ? null : cache, Trace = trace,
        };
    }
}
