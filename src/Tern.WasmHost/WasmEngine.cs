using Wasmtime;

namespace Tern.WasmHost;

/// <summary>The one engine configuration the host uses. Epoch interruption is always compiled in (it is how a call's
/// deadline stops a module), so compiled modules never depend on whether a deadline was given.</summary>
internal static class WasmEngine
{
    /// <summary>Part of the compiled-module cache key: change it with any setting below.</summary>
    public const string SettingsKey = "epoch1";

    public static Engine Create() => new(new Config().WithEpochInterruption(true));
}
