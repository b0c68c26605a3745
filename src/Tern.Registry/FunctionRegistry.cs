using Tern.Core.Code;
using Tern.Core.Functions;
using Tern.Drivers;
using Tern.Drivers.Wasm;
using Tern.Runtimes;
using Tern.Storage;
using Tern.Storage.Code;
using Tern.Storage.Secrets;

namespace Tern.Registry;

/// <summary>Registers, updates and removes functions: validates input, stores the code by hash, and writes the
/// definition. Every rule about what a valid function is lives here or in FunctionValidator.</summary>
public sealed class FunctionRegistry(IFunctionStore store, ICodeStore codeStore, DriverRegistry drivers, TimeProvider time,
    IEnumerable<IFunctionObserver> observers, ISecretStore secrets, WasmModules wasm)
{
    public Task<IReadOnlyList<FunctionDefinition>> ListAsync(CancellationToken ct) => store.ListAsync(ct);

    public async Task<FunctionDefinition> GetAsync(string name, CancellationToken ct) =>
        await store.GetAsync(name, ct).ConfigureAwait(false) ?? throw new FunctionNotFoundException(name);

    public Task<FunctionDefinition> CreateAsync(FunctionSettings s, CancellationToken ct) => CreateAsync(s, null, ct);

    /// <param name="upload">The code as an uploaded stream (multipart); null takes it from the settings' base64 <c>code</c>.</param>
    public async Task<FunctionDefinition> CreateAsync(FunctionSettings s, Stream? upload, CancellationToken ct)
    {
        var errors = FunctionValidator.Validate(s, creating: true, drivers.Names);
        if (s.Mode == ExecutionModes.Persistent && string.IsNullOrEmpty(s.Handler))
            errors["handler"] = ["persistent mode needs a handler such as lambda_function.lambda_handler or index.handler."];
        if (upload is not null) errors.Remove("code"); // "code is required" means the base64 field; the upload is the code
        var code = upload ?? DecodeCode(s.Code, errors);
        CheckDriverUsable(s.Isolation ?? (drivers.Default != FunctionLimits.DefaultIsolation ? drivers.Default : null), errors);
        CheckRuntimeUsable(s.Runtime, errors);
        ThrowIfAny(errors);
        await CheckSecretScopesAsync(s.Name!, s.Env, ct).ConfigureAwait(false);
        if (await store.GetAsync(s.Name!, ct).ConfigureAwait(false) is not null) throw new FunctionAlreadyExistsException(s.Name!);

        RuntimeCatalog.TryGet(s.Runtime!, out var runtime);
        var now = time.GetUtcNow();
        var function = new FunctionDefinition
        {
            Name = s.Name!, Runtime = s.Runtime!, Handler = "", CodeHash = "",
            CreatedAt = now, UpdatedAt = now, Revision = 1, Isolation = drivers.Default,
        };
        CheckNetwork(Merge(function, s));
        function = await ApplyCodeAsync(Merge(function, s), s, code!, runtime, ct).ConfigureAwait(false);
        await PrecompileAsync(function, ct).ConfigureAwait(false);
        await store.CreateAsync(function, ct).ConfigureAwait(false);
        Notify(function.Name, function);
        return function;
    }

    public Task<FunctionDefinition> UpdateAsync(string name, FunctionSettings s, CancellationToken ct) => UpdateAsync(name, s, null, ct);

    /// <param name="upload">New code as an uploaded stream (multipart); null takes it from the settings' base64 <c>code</c>, if any.</param>
    public async Task<FunctionDefinition> UpdateAsync(string name, FunctionSettings s, Stream? upload, CancellationToken ct)
    {
        var existing = await GetAsync(name, ct).ConfigureAwait(false);
        var errors = FunctionValidator.Validate(s, creating: false, drivers.Names);
        if (s.Name is not null && s.Name != name) errors["name"] = ["a function cannot be renamed; create a new one instead."];
        var code = upload ?? (s.Code is null ? null : DecodeCode(s.Code, errors));
        var merged = Merge(existing, s);
        if (merged.MinReplicas > merged.MaxReplicas && !errors.ContainsKey("minReplicas"))
            errors["minReplicas"] = ["minReplicas must not exceed maxReplicas."];
        CheckDriverUsable(s.Isolation, errors);
        if (s.Runtime is not null || code is not null) CheckRuntimeUsable(merged.Runtime, errors);
        ThrowIfAny(errors);
        CheckNetwork(merged);
        await CheckSecretScopesAsync(name, s.Env, ct).ConfigureAwait(false);

        RuntimeCatalog.TryGet(merged.Runtime, out var runtime);
        if (code is null) await codeStore.EnsureLocalAsync(new CodeRef(merged.CodeHash, merged.CodeFileName), ct).ConfigureAwait(false);
        merged = code is not null
            ? await ApplyCodeAsync(merged, s, code, runtime, ct).ConfigureAwait(false)
            : CheckHandler(merged with { Handler = s.Handler ?? existing.Handler }, runtime);
        if (code is not null || s.Handler is not null || s.Runtime is not null) await PrecompileAsync(merged, ct).ConfigureAwait(false);
        merged = merged with { Revision = existing.Revision + 1, UpdatedAt = time.GetUtcNow() };
        if (!await store.UpdateAsync(merged, existing.Revision, ct).ConfigureAwait(false))
            throw new FunctionValidationException("version", "the function was changed by another request at the same time; retry.");
        Notify(name, merged);
        return merged;
    }

    public async Task DeleteAsync(string name, CancellationToken ct)
    {
        if (!await store.DeleteAsync(name, ct).ConfigureAwait(false)) throw new FunctionNotFoundException(name);
        Notify(name, null);
    }

    /// <summary>A function that names an isolation whose driver cannot start workers here (runsc not installed, say) could
    /// never run: refused with the driver's own words, which name what is missing and the command that installs it. The
    /// built-in default (sandbox) is not checked when the function names none: that daemon is not ready at all, which
    /// readiness and every call say.</summary>
    private void CheckDriverUsable(string? isolation, Dictionary<string, string[]> errors)
    {
        if (isolation is null || errors.ContainsKey("isolation")) return;
        if (drivers.Problem(isolation) is { } problem)
            errors["isolation"] = [$"isolation '{isolation}' cannot run functions on this daemon: {problem}."];
    }

    /// <summary>A wasm function on a daemon whose wasm host is missing could never run: refused with what is missing and
    /// how to build it (readiness says the same in its "wasm" check).</summary>
    private void CheckRuntimeUsable(string? runtime, Dictionary<string, string[]> errors)
    {
        if (runtime == "wasm" && !errors.ContainsKey("runtime") && wasm.Problem() is { } problem)
            errors["runtime"] = [$"runtime 'wasm' cannot run functions on this daemon: {problem}."];
    }

    /// <summary>A wasm module is compiled once per code hash, here, so workers only deserialize it (WasmModules). A module
    /// that does not compile is still stored: its calls report the module's own error, as they always did.</summary>
    private Task PrecompileAsync(FunctionDefinition f, CancellationToken ct) => wasm.PrecompileAsync(f, ct);

    /// <summary>Refuses env entries naming a secret that exists but is not granted to the function: the function
    /// could never start. A secret that does not exist yet is let through (it may be set before the first call, and
    /// the call says so if not).</summary>
    private async Task CheckSecretScopesAsync(string function, IReadOnlyDictionary<string, string>? env, CancellationToken ct)
    {
        if (env is null) return;
        foreach (var (key, value) in env)
        {
            if (SecretRules.ReferencedName(value) is not { } name) continue;
            if (await secrets.GetAsync(name, ct).ConfigureAwait(false) is { } secret && !SecretScope.Allows(secret.Functions, function))
                throw new FunctionValidationException($"env.{key}",
                    $"secret '{name}' is not granted to function '{function}'; grant it with: tern secret scope {name} --functions {string.Join(',', secret.Functions.Append(function))}");
        }
    }

    private void Notify(string name, FunctionDefinition? current)
    {
        foreach (var observer in observers) observer.OnFunctionChanged(name, current);
    }

    private async Task<FunctionDefinition> ApplyCodeAsync(FunctionDefinition f, FunctionSettings s, Stream code, RuntimeDefinition runtime, CancellationToken ct)
    {
        StoredCode stored;
        // A .jar (or .whl) is a zip too, but named as a single file it is kept whole.
        var unpack = s.CodeFileName is null || s.CodeFileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase);
        try { stored = await codeStore.SaveAsync(code, unpack, ct).ConfigureAwait(false); }
        catch (InvalidCodePackageException e) { throw new FunctionValidationException("code", e.Message); }

        // A single file needs a name inside /code: codeFileName, else the file the handler names, else the runtime's usual one.
        var handlerFile = s.Handler is null ? null
            : f.Mode == ExecutionModes.Persistent ? runtime.PersistentEntryFiles(s.Handler).FirstOrDefault() ?? s.Handler : s.Handler;
        var fileName = stored.IsZip ? null : s.CodeFileName ?? handlerFile ?? f.CodeFileName ?? runtime.DefaultHandler;
        var existing = f.Handler.Length > 0 ? f.Handler : null;
        var handler = s.Handler
            ?? (fileName is not null && f.Mode == ExecutionModes.Process ? fileName : existing ?? runtime.DefaultHandler);
        return CheckHandler(f with { CodeHash = stored.Hash, CodeFileName = fileName, Handler = handler }, runtime);
    }

    private FunctionDefinition CheckHandler(FunctionDefinition f, RuntimeDefinition runtime)
    {
        if (f.Mode == ExecutionModes.Persistent && f.CodeFileName is null)
        {
            var candidates = runtime.PersistentEntryFiles(f.Handler);
            if (candidates.Length > 0 && !candidates.Any(c => codeStore.ContainsHandler(f.CodeHash, null, c)))
                throw new FunctionValidationException("handler", $"handler '{f.Handler}' needs one of {string.Join(", ", candidates)} in the code package.");
            if (runtime.HandlerIsExecutable) codeStore.MarkExecutable(f.CodeHash, null, f.Handler);
        }
        else if (f.Mode == ExecutionModes.Persistent)
        {
            // A single file: its name is the module (or the executable) the handler refers to.
            if (runtime.HandlerIsExecutable) codeStore.MarkExecutable(f.CodeHash, f.CodeFileName, f.CodeFileName!);
        }
        else
        {
            if (!codeStore.ContainsHandler(f.CodeHash, f.CodeFileName, f.Handler))
                throw new FunctionValidationException("handler", f.CodeFileName is null
                    ? $"handler '{f.Handler}' is not in the code package."
                    : $"handler '{f.Handler}' must be the uploaded file's name '{f.CodeFileName}'.");
            if (runtime.HandlerIsExecutable) codeStore.MarkExecutable(f.CodeHash, f.CodeFileName, f.Handler);
        }
        return f;
    }

    /// <summary>Egress only where the function's driver can filter it; a driver that cannot would otherwise either give
    /// no network (surprising) or an unfiltered one (unsafe).</summary>
    private void CheckNetwork(FunctionDefinition f)
    {
        // Here because every merged definition passes: the kubernetes settings mean nothing to another isolation.
        if (f.Kubernetes is not null && f.Isolation != "kubernetes")
            throw new FunctionValidationException("kubernetes", $"the kubernetes settings need isolation 'kubernetes' (this function's is '{f.Isolation}').");
        if (f.Network.IsEgress && drivers.Names.Contains(f.Isolation) && !drivers.Get(f.Isolation).SupportsEgress)
            throw new FunctionValidationException("network", $"isolation '{f.Isolation}' offers no network egress; use network 'none' or an isolation that does (sandbox).");
    }

    private static FunctionDefinition Merge(FunctionDefinition f, FunctionSettings s) => f with
    {
        Runtime = s.Runtime ?? f.Runtime,
        MemoryMb = s.MemoryMb ?? f.MemoryMb,
        Vcpus = s.Vcpus ?? f.Vcpus,
        TimeoutMs = s.TimeoutMs ?? f.TimeoutMs,
        Env = s.Env ?? f.Env,
        Mode = s.Mode ?? f.Mode,
        MinReplicas = s.MinReplicas ?? f.MinReplicas,
        MaxReplicas = s.MaxReplicas ?? f.MaxReplicas,
        Concurrency = s.Concurrency ?? f.Concurrency,
        InstanceConcurrency = s.InstanceConcurrency ?? f.InstanceConcurrency,
        QueueSize = s.QueueSize ?? f.QueueSize,
        MaxRetries = s.MaxRetries ?? f.MaxRetries,
        Isolation = s.Isolation ?? f.Isolation,
        RateLimitPerSecond = s.RateLimitPerSecond is int rate ? (rate == 0 ? null : rate) : f.RateLimitPerSecond,
        Network = s.Network ?? f.Network,
        Kubernetes = s.Kubernetes ?? f.Kubernetes,
    };

    private static MemoryStream? DecodeCode(string? base64, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(base64)) return null;
        try
        {
            var bytes = Convert.FromBase64String(base64);
            if (bytes.Length > FunctionLimits.MaxCodeBytes)
                errors["code"] = [$"code is {bytes.Length} bytes; at most {FunctionLimits.MaxCodeBytes} allowed."];
            else if (bytes.Length == 0)
                errors["code"] = ["code is empty."];
            return new MemoryStream(bytes, writable: false);
        }
        catch (FormatException)
        {
            errors["code"] = ["code must be base64."];
            return null;
        }
    }

    private static void ThrowIfAny(Dictionary<string, string[]> errors)
    {
        if (errors.Count > 0) throw new FunctionValidationException(errors);
    }
}
