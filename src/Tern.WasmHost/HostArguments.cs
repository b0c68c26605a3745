using System.Globalization;
using Tern.Runtimes;

namespace Tern.WasmHost;

/// <summary>The command line, the same contract wasi-runner.mjs had (plus options before the module):
/// <c>tern-wasm-host [options] MODULE.wasm EVENT_PATH</c> runs one call (process mode);
/// <c>tern-wasm-host --stdio [options] MODULE.wasm</c> runs the module once with the process's stdio as its own, so it
/// serves the line protocol itself (persistent mode);
/// <c>tern-wasm-host --zygote</c> starts the runtime and the engine, then waits on stdin for one of the two command lines
/// above (see <see cref="ZygoteCommand"/>): a spare worker keeps one waiting;
/// <c>tern-wasm-host --compile --cache-dir DIR MODULE.wasm</c> only compiles the module into DIR (the daemon does this when
/// code is stored, into a directory workers see read-only as --compiled-dir).</summary>
internal sealed record HostArguments
{
    public const string Usage =
        "usage: tern-wasm-host [--memory-mb N] [--cache-dir DIR] [--compiled-dir DIR] [--trace] [--report-end TOKEN] MODULE.wasm EVENT_PATH\n" +
        "       tern-wasm-host --stdio [--memory-mb N] [--cache-dir DIR] [--compiled-dir DIR] [--trace] MODULE.wasm\n" +
        "       tern-wasm-host --zygote   (then one length-prefixed command on stdin)\n" +
        "       tern-wasm-host --compile --cache-dir DIR MODULE.wasm\n" +
        "       tern-wasm-host --write-prewarm DIR";

    public string ModulePath { get; init; } = "";
    /// <summary>Process mode: the event file (argv[1] of the module; its directory is preopened read-only).</summary>
    public string? EventPath { get; init; }
    public bool Stdio { get; init; }
    /// <summary>Wait for the real command on stdin (a spare worker's pre-started host).</summary>
    public bool Zygote { get; init; }
    /// <summary>Compile MODULE into --cache-dir and exit.</summary>
    public bool Compile { get; init; }
    /// <summary>Build time: compile the zygote's prewarm module into this directory and exit (see <see cref="Prewarm"/>).</summary>
    public string? WritePrewarm { get; init; }
    /// <summary>The most linear memory the module may have (the function's memoryMb); null: no limit of its own.</summary>
    public long? MemoryBytes { get; init; }
    /// <summary>Where compiled modules are kept between starts; null: compile every time.</summary>
    public string? CacheDir { get; init; }
    /// <summary>Modules the daemon compiled ahead (read-only, looked up before <see cref="CacheDir"/>).</summary>
    public string? CompiledDir { get; init; }
    /// <summary>Process mode: end stderr with the end-of-call trailer carrying this token (Tern.Runtimes/EndOfCallTrailer.cs)
    /// once the module has ended, and let go of stdout and stderr then, so the agent need not wait for the exit.</summary>
    public string? ReportEndToken { get; init; }
    /// <summary>Say on stderr whether the module came from the cache (for tests and benchmarks).</summary>
    public bool Trace { get; init; }
    /// <summary>The module's environment when a zygote was told it; null: the process's own (a plain start).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>A variable of the module's environment (the host reads its deadline and trace switch there too).</summary>
    public string? Variable(string name) =>
        Environment is null ? System.Environment.GetEnvironmentVariable(name) : Environment.GetValueOrDefault(name);

    public static HostArguments? Parse(string[] args, out string? error)
    {
        error = null;
        bool stdio = false, trace = false, zygote = false, compile = false;
        long? memory = null;
        string? cache = null, compiled = null, prewarm = null, reportEnd = null;
        var positional = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--stdio": stdio = true; break;
                case "--trace": trace = true; break;
                case "--zygote": zygote = true; break;
                case "--compile": compile = true; break;
                case "--memory-mb" when i + 1 < args.Length:
                    if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var mb) || mb <= 0)
                    {
                        error = $"--memory-mb must be a positive whole number, not '{args[i]}'";
                        return null;
                    }
                    memory = mb * 1024L * 1024L;
                    break;
                case "--cache-dir" when i + 1 < args.Length: cache = args[++i]; break;
                case "--compiled-dir" when i + 1 < args.Length: compiled = args[++i]; break;
                case "--write-prewarm" when i + 1 < args.Length: prewarm = args[++i]; break;
                case EndOfCallTrailer.Flag when i + 1 < args.Length && args[i + 1].Length is > 0 and <= 64: reportEnd = args[++i]; break;
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
        if (prewarm is not null)
        {
            if (positional.Count == 0 && !zygote && !stdio && !compile) return new HostArguments { WritePrewarm = prewarm };
            error = Usage;
            return null;
        }
        if (zygote)
        {
            if (positional.Count == 0 && !stdio && !compile) return new HostArguments { Zygote = true, Trace = trace };
            error = Usage;
            return null;
        }
        if (positional.Count != (stdio || compile ? 1 : 2) || (compile && (stdio || string.IsNullOrEmpty(cache))) || (reportEnd is not null && (stdio || compile)))
        {
            error = Usage;
            return null;
        }
        return new HostArguments
        {
            ModulePath = positional[0], EventPath = stdio || compile ? null : positional[1], Stdio = stdio, Compile = compile,
            MemoryBytes = memory, CacheDir = string.IsNullOrEmpty(cache) ? null : cache,
            CompiledDir = string.IsNullOrEmpty(compiled) ? null : compiled, Trace = trace, ReportEndToken = reportEnd,
        };
    }
}
