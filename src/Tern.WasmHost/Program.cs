using Tern.WasmHost;
using Wasmtime;

// tern-wasm-host: the wasm runtime's handler process (see HostArguments for the command line).
var options = HostArguments.Parse(args, out var usageError);
if (options is null)
{
    Console.Error.WriteLine($"tern-wasm-host: {usageError}");
    return 2;
}
// TERN_WASM_TRACE=1 in a function's env does the same as --trace: whether the module came from the cache.
Action<string>? trace = options.Trace || Environment.GetEnvironmentVariable("TERN_WASM_TRACE") == "1" ? line => Console.Error.WriteLine($"tern-wasm-host: {line}") : null;
try
{
    using var engine = WasmEngine.Create();
    using var module = new CompiledModuleCache(options.CacheDir, trace).Load(engine, options.ModulePath);
    return WasiCommand.Run(engine, module, options);
}
catch (Exception e) when (e is ModuleLoadException or IOException or UnauthorizedAccessException or WasmtimeException)
{
    var message = e is ModuleLoadException ? e.Message : $"cannot load {options.ModulePath}: {WasiCommand.OneLine(e.Message)}";
    Console.Error.WriteLine($"tern-wasm-host: {message}");
    // Persistent mode: the agent is waiting for the ready line; say why there will be none.
    if (options.Stdio) Console.Out.Write(LoadFailure.ReadyLine(message));
    return 1;
}
