namespace Tern.WasmHost;

/// <summary>The module cannot be run at all (not WebAssembly, an import WASI does not provide, no _start, more memory
/// than the limit): one line for the caller, no stack.</summary>
internal sealed class ModuleLoadException(string message) : Exception(message);
