using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Core.Code;
using Tern.Core.Functions;
using Tern.Drivers.Sandbox;

namespace Tern.Drivers.Wasm;

/// <summary>The daemon's side of the wasm runtime: whether its host (<c>tern-wasm-host</c>, shipped in the runtime assets
/// every worker mounts) is there, and compiling a function's module once per code hash when the code is stored.
/// <para>The module is compiled by running that same host with <c>--compile</c>, so the file has exactly the Wasmtime
/// version and engine settings the workers use (its name carries both; a host of another build ignores it). It goes
/// into the code source's <see cref="ICodeSource.CompiledPath"/> (beside the package), which drivers mount read-only
/// at /opt/tern/compiled: the worker's host only deserializes it, and never runs the compiler (whose code would stay
/// in its memory). Wasmtime maps a serialized module as native code and trusts it, which is why only the daemon writes
/// these files and workers can only read them; a worker's own cache stays in its private /tmp.</para></summary>
public sealed partial class WasmModules(IOptions<SandboxOptions> sandbox, ILogger<WasmModules> logger, ICodeSource? codeSource = null)
{
    /// <summary>Compiling a large module takes seconds; a host stuck beyond this is killed (the worker then compiles).</summary>
    public static readonly TimeSpan CompileTimeout = TimeSpan.FromSeconds(120);

    /// <summary>The host on this machine (the worker sees the same file under /opt/tern/runtimes/wasm/).</summary>
    public string HostPath => Path.Combine(sandbox.Value.RuntimeAssetsDir, "wasm", "tern-wasm-host");

    /// <summary>What stops wasm functions from running here, with how to fix it; null when nothing does. Cheap (two stat
    /// calls): readiness and registering a wasm function ask.</summary>
    public string? Problem()
    {
        var host = HostPath;
        const string build = "build Tern (./tern --help, or dotnet build src/Tern.Drivers), which publishes it with libwasmtime.so into tern-runtimes/wasm/, or point the setting sandbox.runtimeAssetsDir at a directory that has wasm/tern-wasm-host";
        if (!File.Exists(host))
            return $"the wasm runtime's host is missing at {host}: {build}";
        if (!File.Exists(Path.Combine(Path.GetDirectoryName(host)!, "libwasmtime.so")))
            return $"libwasmtime.so is missing beside {host}: {build}";
        if (Posix.access(host, Posix.X_OK) != 0)
            return $"the wasm runtime's host at {host} cannot be executed: {build}";
        return null;
    }

    /// <summary>A wasm function's module (its handler file, or the single uploaded file); nothing for other runtimes.</summary>
    public Task<string?> PrecompileAsync(FunctionDefinition function, CancellationToken ct) => function.Runtime == "wasm"
        ? PrecompileAsync(new CodeRef(function.CodeHash, function.CodeFileName), function.CodeFileName ?? function.Handler, ct)
        : Task.FromResult<string?>(null);

    /// <summary>Compiles <paramref name="modulePath"/> (a file of the package, relative to its root; for a single-file
    /// package, its name) into the package's compiled directory. Returns the file written, or null when nothing was
    /// compiled (no host, no place to put it, a module that does not compile: the worker then compiles, or reports the
    /// module's error on the call, as before). Never throws for the module's sake.</summary>
    public async Task<string?> PrecompileAsync(CodeRef code, string modulePath, CancellationToken ct)
    {
        if (Problem() is not null || codeSource?.LocalPath(code) is not { } package || codeSource.CompiledPath(code) is not { } compiledDir) return null;
        var module = code.IsSingleFile ? package : Path.GetFullPath(Path.Combine(package, modulePath));
        if (!code.IsSingleFile && !module.StartsWith(Path.GetFullPath(package) + "/", StringComparison.Ordinal)) return null;
        if (!File.Exists(module)) return null;

        var psi = new ProcessStartInfo(HostPath)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var arg in new[] { "--compile", "--cache-dir", compiledDir, module }) psi.ArgumentList.Add(arg);
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        var started = Stopwatch.GetTimestamp();
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            LogCompileFailed(code.Hash, modulePath, e.Message);
            return null;
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CompileTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            if (ct.IsCancellationRequested) throw;
            LogCompileFailed(code.Hash, modulePath, $"not done within {CompileTimeout.TotalSeconds:0} s");
            return null;
        }
        if (process.ExitCode != 0)
        {
            LogCompileFailed(code.Hash, modulePath, (await stderr.ConfigureAwait(false)).Trim());
            return null;
        }
        var written = (await stdout.ConfigureAwait(false)).Trim();
        LogCompiled(code.Hash, modulePath, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return written;
    }

    [LoggerMessage(EventId = 140, Level = LogLevel.Debug, Message = "precompiled wasm module {Module} of code {CodeHash} in {Ms:0} ms")]
    private partial void LogCompiled(string codeHash, string module, double ms);

    [LoggerMessage(EventId = 141, Level = LogLevel.Information, Message = "wasm module {Module} of code {CodeHash} was not precompiled (its workers compile it): {Reason}")]
    private partial void LogCompileFailed(string codeHash, string module, string reason);
}
