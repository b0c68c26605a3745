using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tern.Core.Code;
using Tern.Drivers;
using Tern.Drivers.Sandbox;
using Tern.Drivers.Wasm;

namespace Tern.Bench;

/// <summary>Code for a benchmark worker as the daemon would have it: a wasm handler precompiled beside the code when it
/// is registered (WasmModules), so workers mount it read-only and only deserialize it.</summary>
public static class WasmPrecompile
{
    public static async Task<CodeRef> AddAsync(LocalCodeSource code, string stateDir, string runtime, string dir, string handler)
    {
        if (runtime != "wasm") return code.Add(dir);
        var compiled = Path.Combine(stateDir, "compiled", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(dir)))[..16]);
        var codeRef = code.Add(dir, compiledPath: compiled);
        _ = await new WasmModules(Options.Create(new SandboxOptions()), NullLogger<WasmModules>.Instance, code).PrecompileAsync(codeRef, handler, CancellationToken.None)
            ?? throw new InvalidOperationException($"{dir}/{handler} was not precompiled");
        return codeRef;
    }
}
