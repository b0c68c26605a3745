using Tern.WasmHost;
using Wasmtime;

// tern-wasm-host: the wasm runtime's handler process (see HostArguments for the command line).
var args_ = HostArguments.Parse(args, out var usageError);
if (args_ is null)
{
    Console.Error.WriteLine($"tern-wasm-host: {usageError}");
    return 2;
}
// TERN_WASM_TRACE=1 in a function's env does the same as --trace: whether the module came from the cache.
Action<string>? trace = args_.Trace || Environment.GetEnvironmentVariable("TERN_WASM_TRACE") == "1" ? line => Console.Error.WriteLine($"tern-wasm-host: {line}") : null;
try
{
    using var engine = WasmEngine.Create();
    using var module = new CompiledModuleCache(args_.CacheDir, trace).Load(engine, args_.ModulePath);
    return WasiCommand.Run(engine, module, args_);
}
catch (Exception e) when (e is ModuleLoadException or IOException or UnauthorizedAccessException or WasmtimeException)
{
    var message = e is ModuleLoadException ? e.Message : $"cannot load {args_.ModulePath}: {WasiCommand.OneLine(e.Message)}";
    Console.Error.WriteLine($"tern-wasm-host: {message}");
    // Persistent mode: the agent is waiting for the ready line; say why there will be none.
    if (args_.Stdio) Console.Out.Write(LoadFailure.ReadyLine(message));
    return 1;
}
