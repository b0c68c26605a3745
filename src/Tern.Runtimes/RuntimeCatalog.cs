namespace Tern.Runtimes;

/// <summary>The runtimes Tern knows. Paths are the ones inside a worker: system directories are
/// bound read-only, so these are Debian's interpreters, never a user's shims.</summary>
public static class RuntimeCatalog
{
    /// <summary>Where the runtime assets (bootstraps, the wasm host) are mounted inside a worker.</summary>
    public const string AssetsDir = "/opt/tern/runtimes";

    /// <summary>Where the function's code is mounted inside a worker (read-only).</summary>
    public const string CodeDir = "/code";

    /// <summary>Persistent-mode bootstraps, under <see cref="AssetsDir"/>.</summary>
    public const string PythonBootstrap = AssetsDir + "/python/bootstrap.py";
    public const string NodeBootstrap = AssetsDir + "/node/bootstrap.js";
    public const string DotnetBootstrap = AssetsDir + "/dotnet/Tern.Bootstrap.dll";
    public const string JavaBootstrapJar = AssetsDir + "/java/tern-bootstrap.jar";
    public const string JavaBootstrapSource = AssetsDir + "/java/TernBootstrap.java";

    /// <summary>The wasm runtime's host (with libwasmtime.so beside it), and where it keeps compiled modules.</summary>
    public const string WasmHost = AssetsDir + "/wasm/tern-wasm-host";
    public const string WasmCacheDir = "/tmp/.tern-wasm-cache";

    /// <summary>Modules the daemon compiled when the code was stored (Wasmtime's serialized form), mounted read-only;
    /// the host looks there before its own cache.</summary>
    public const string WasmCompiledDir = "/opt/tern/compiled";

    private static readonly Dictionary<string, RuntimeDefinition> Runtimes = new[]
    {
        new RuntimeDefinition
        {
            Name = "python", DefaultHandler = "main.py",
            ProcessCommand = (handler, evt, _) => ["/usr/bin/python3", "-u", handler, evt],
            Environment = _ => new Dictionary<string, string> { ["PYTHONDONTWRITEBYTECODE"] = "1" },
            // Calls are served one at a time (as Lambda does), so the agent never sends a second before the first is answered.
            PersistentCommand = (handler, _) => ["/usr/bin/python3", "-u", PythonBootstrap, handler],
            PersistentEntryFiles = handler => [ModulePath(handler, '/') + ".py", ModulePath(handler, '/') + "/__init__.py"],
        },
        new RuntimeDefinition
        {
            Name = "node", DefaultHandler = "index.js",
            ProcessCommand = (handler, evt, _) => ["/usr/bin/node", handler, evt],
            PersistentCommand = (handler, _) => ["/usr/bin/node", NodeBootstrap, handler],
            PersistentConcurrent = true,
            PersistentEntryFiles = handler => [ModulePath(handler, '/') + ".js", ModulePath(handler, '/') + ".mjs", ModulePath(handler, '/') + ".cjs"],
        },
        new RuntimeDefinition
        {
            Name = "dotnet", DefaultHandler = "app.dll",
            ProcessCommand = (handler, evt, _) => ["/usr/bin/dotnet", handler, evt],
            // No /sys in the sandbox, so the GC cannot read the cgroup limit: tell it.
            Environment = memoryMb => new Dictionary<string, string>
            {
                ["DOTNET_GCHeapHardLimit"] = ((long)memoryMb * 1024 * 1024 * 3 / 4).ToString("x"),
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                ["DOTNET_NOLOGO"] = "1",
                ["DOTNET_EnableDiagnostics"] = "0",
            },
            PersistentCommand = (handler, _) => ["/usr/bin/dotnet", DotnetBootstrap, handler],
            PersistentConcurrent = true,
            // Assembly::Namespace.Class::Method
            PersistentEntryFiles = handler => [handler.Split("::")[0] + ".dll"],
        },
        new RuntimeDefinition
        {
            Name = "java", DefaultHandler = "app.jar",
            ProcessCommand = (handler, evt, memoryMb) => handler.EndsWith(".java", StringComparison.Ordinal)
                ? ["/usr/bin/java", $"-XX:MaxRAM={memoryMb}m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", handler, evt]
                : ["/usr/bin/java", $"-XX:MaxRAM={memoryMb}m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", handler, evt],
            // Full tiering here (a long-lived process earns its C2 code). The bootstrap is precompiled when a JDK was
            // there at build time; otherwise Java's source launcher compiles it at every start (slower, same behaviour).
            PersistentCommand = (handler, memoryMb) => File.Exists(JavaBootstrapJar)
                ? ["/usr/bin/java", $"-XX:MaxRAM={memoryMb}m", "-XX:+UseSerialGC", "-Xshare:auto", "-cp", JavaBootstrapJar, "TernBootstrap", handler]
                : ["/usr/bin/java", $"-XX:MaxRAM={memoryMb}m", "-XX:+UseSerialGC", "-Xshare:auto", JavaBootstrapSource, handler],
            // package.Class::method lives inside a jar: nothing to check from outside.
            PersistentEntryFiles = _ => [],
        },
        Native("go"),
        Native("rust"),
        Native("binary"),
        new RuntimeDefinition
        {
            Name = "wasm", DefaultHandler = "module.wasm",
            // Wasmtime, in Tern's NativeAOT host (src/Tern.WasmHost): the module precompiled by the daemon (or else
            // compiled once per worker into a cache in its /tmp), its linear memory capped at the function's memory, a
            // call's deadline enforced by epoch interruption (the host exits with TimeoutExitCode). A spare worker keeps
            // a host waiting with its engine made (the agent's WasmZygote), which takes the same command line.
            ProcessCommand = (handler, evt, memoryMb) =>
                [WasmHost, "--memory-mb", memoryMb.ToString(), "--cache-dir", WasmCacheDir, "--compiled-dir", WasmCompiledDir, handler, evt],
            // Persistent: the module itself speaks the line protocol on its WASI stdin/stdout.
            PersistentCommand = (handler, memoryMb) =>
                [WasmHost, "--stdio", "--memory-mb", memoryMb.ToString(), "--cache-dir", WasmCacheDir, "--compiled-dir", WasmCompiledDir, $"{CodeDir}/{handler}"],
            PersistentConcurrent = true,
            TimeoutExitCode = 124,
            ReportsEndOfCall = true,
        },
    }.ToDictionary(r => r.Name, StringComparer.Ordinal);

    public static IReadOnlyCollection<string> Names => Runtimes.Keys;

    public static bool TryGet(string name, out RuntimeDefinition runtime) =>
        Runtimes.TryGetValue(name, out runtime!);

    /// <summary>"pkg.module.function" -> "pkg/module": the module part of a Lambda-style handler name.</summary>
    private static string ModulePath(string handler, char separator)
    {
        var dot = handler.LastIndexOf('.');
        return (dot > 0 ? handler[..dot] : handler).Replace('.', separator);
    }

    private static RuntimeDefinition Native(string name) => new()
    {
        Name = name, DefaultHandler = "bootstrap", HandlerIsExecutable = true,
        ProcessCommand = (handler, evt, _) => [handler, evt],
        // Persistent: the executable itself speaks the line protocol (docs/persistent-mode.md); it may answer out of order.
        PersistentCommand = (handler, _) => [$"{CodeDir}/{handler}"],
        PersistentConcurrent = true,
    };
}
