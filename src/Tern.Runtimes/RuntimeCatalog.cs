namespace Tern.Runtimes;

/// <summary>The runtimes Tern knows. Paths are the ones inside a worker: system directories are
/// bound read-only, so these are Debian's interpreters, never a user's shims.</summary>
public static class RuntimeCatalog
{
    /// <summary>Where the runtime assets (for example the WASI runner) are mounted inside a worker.</summary>
    public const string AssetsDir = "/opt/tern/runtimes";

    private static readonly Dictionary<string, RuntimeDefinition> Runtimes = new[]
    {
        new RuntimeDefinition
        {
            Name = "python", DefaultHandler = "main.py",
            ProcessCommand = (handler, evt, _) => ["/usr/bin/python3", "-u", handler, evt],
            Environment = _ => new Dictionary<string, string> { ["PYTHONDONTWRITEBYTECODE"] = "1" },
            PersistentEntryFiles = handler => [ModulePath(handler, '/') + ".py", ModulePath(handler, '/') + "/__init__.py"],
        },
        new RuntimeDefinition
        {
            Name = "node", DefaultHandler = "index.js",
            ProcessCommand = (handler, evt, _) => ["/usr/bin/node", handler, evt],
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
            // Assembly::Namespace.Class::Method
            PersistentEntryFiles = handler => [handler.Split("::")[0] + ".dll"],
        },
        new RuntimeDefinition
        {
            Name = "java", DefaultHandler = "app.jar",
            ProcessCommand = (handler, evt, memoryMb) => handler.EndsWith(".java", StringComparison.Ordinal)
                ? ["/usr/bin/java", $"-XX:MaxRAM={memoryMb}m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", handler, evt]
                : ["/usr/bin/java", $"-XX:MaxRAM={memoryMb}m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", handler, evt],
            // package.Class::method lives inside a jar: nothing to check from outside.
            PersistentEntryFiles = _ => [],
        },
        Native("go"),
        Native("rust"),
        Native("binary"),
        new RuntimeDefinition
        {
            Name = "wasm", DefaultHandler = "module.wasm",
            // No Wasmtime is reachable here; Node's built-in WASI (preview1) runs the module.
            ProcessCommand = (handler, evt, _) => ["/usr/bin/node", "--no-warnings", $"{AssetsDir}/wasi-runner.mjs", handler, evt],
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
    };
}
