using Tern.WasmHost;
using Wasmtime;

// tern-wasm-host: the wasm runtime's handler process (see HostArguments for the command line).
var options = HostArguments.Parse(args, out var usageError);
if (options is null)
{
    Console.Error.WriteLine($"tern-wasm-host: {usageError}");
    return 2;
}
Engine? engine = null;
Linker? linker = null;
Prewarm? prewarm = null;
try
{
    engine = WasmEngine.Create();
    if (options.WritePrewarm is { } prewarmDir)
    {
        Console.Out.WriteLine(Prewarm.Write(engine, prewarmDir));
        return 0;
    }
    if (options.Zygote)
    {
        // A spare worker's host: the runtime is up, libwasmtime loaded, the engine and the WASI linker made, the paths
        // a call takes warmed up (and kept warm while it waits); now wait for the function.
        linker = WasiCommand.NewLinker(engine);
        prewarm = Prewarm.Start(engine, linker, options.Trace ? line => Console.Error.WriteLine($"tern-wasm-host: {line}") : null);
        var command = ZygoteCommand.Read(out var commandError);
        prewarm?.Stop();
        if (command is null)
        {
            if (commandError is null) return 0; // stdin closed: the spare took on something else
            Console.Error.WriteLine($"tern-wasm-host: {commandError}");
            return 2;
        }
        options = command;
    }
    // TERN_WASM_TRACE=1 in a function's env does the same as --trace: where the module came from.
    Action<string>? trace = options.Trace || options.Variable("TERN_WASM_TRACE") == "1" ? line => Console.Error.WriteLine($"tern-wasm-host: {line}") : null;
    if (options.Environment is not null) trace?.Invoke("started ahead as a spare's zygote");
    var modules = new CompiledModuleCache(options.CacheDir, options.CompiledDir, trace);
    if (options.Compile)
    {
        Console.Out.WriteLine(modules.Compile(engine, options.ModulePath));
        return 0;
    }
    using var module = modules.Load(engine, options.ModulePath);
    linker ??= WasiCommand.NewLinker(engine);
    return WasiCommand.Run(engine, linker, module, options);
}
catch (Exception e) when (e is ModuleLoadException or IOException or UnauthorizedAccessException or WasmtimeException)
{
    var message = e is ModuleLoadException ? e.Message : $"cannot load {options.ModulePath}: {WasiCommand.OneLine(e.Message)}";
    Console.Error.WriteLine($"tern-wasm-host: {message}");
    // Persistent mode: the agent is waiting for the ready line; say why there will be none.
    if (options.Stdio) Console.Out.Write(LoadFailure.ReadyLine(message));
    return 1;
}
finally
{
    prewarm?.Dispose();
    linker?.Dispose();
    engine?.Dispose();
}
