using Microsoft.Extensions.Hosting;
using Tern.Core.Functions;
using Tern.Drivers.Wasm;
using Tern.Storage;

namespace Tern.Registry;

/// <summary>At daemon start, in the background and one at a time: every stored wasm function and published version gets
/// its precompiled module if it lacks one (code stored before modules were precompiled, or a Tern upgrade that brought
/// another Wasmtime: the file name carries the version, so the old file no longer matches). A module already compiled
/// for this build costs one quick check. Until it is done, workers compile for themselves, as the fallback does.</summary>
internal sealed class WasmPrecompileAtStart(IFunctionStore functions, IVersionStore versions, WasmModules wasm) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // never hold up the daemon's start
        if (wasm.Problem() is not null) return; // readiness and registration say what is missing
        var seen = new HashSet<(string Hash, string Module)>();
        foreach (var function in await functions.ListAsync(stoppingToken).ConfigureAwait(false))
        {
            if (function.Runtime != "wasm") continue;
            var definitions = new List<FunctionDefinition> { function };
            definitions.AddRange((await versions.ListAsync(function.Name, stoppingToken).ConfigureAwait(false)).Select(v => v.Definition));
            foreach (var definition in definitions)
            {
                if (definition.Runtime == "wasm" && seen.Add((definition.CodeHash, definition.CodeFileName ?? definition.Handler)))
                    await wasm.PrecompileAsync(definition, stoppingToken).ConfigureAwait(false);
            }
        }
    }
}
