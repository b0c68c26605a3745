using Tern.Runtimes;

namespace Tern.Core.Functions;

/// <summary>Checks user input field by field, so a 400 can list every bad field at once.</summary>
public static class FunctionValidator
{
    /// <param name="creating">A create needs name, runtime and code; a PATCH needs none of them.</param>
    /// <param name="isolations">The isolation drivers this daemon has.</param>
    public static Dictionary<string, string[]> Validate(FunctionSettings s, bool creating, IReadOnlyCollection<string> isolations)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Add(string field, string message) => errors[field] = [.. errors.GetValueOrDefault(field, []), message];

        if (creating && string.IsNullOrEmpty(s.Name)) Add("name", "name is required.");
        else if (s.Name is not null && !FunctionNames.IsValid(s.Name))
            Add("name", "name must match ^[a-z0-9][a-z0-9_-]{0,63}$.");

        if (creating && string.IsNullOrEmpty(s.Runtime)) Add("runtime", "runtime is required.");
        else if (s.Runtime is not null && !RuntimeCatalog.TryGet(s.Runtime, out _))
            Add("runtime", $"unknown runtime '{s.Runtime}'; known: {string.Join(", ", RuntimeCatalog.Names)}.");

        if (creating && string.IsNullOrEmpty(s.Code)) Add("code", "code is required (base64 of a zip archive or of a single file).");
        if (s.Handler is not null && !IsSafeRelativePath(s.Handler))
            Add("handler", "handler must be a relative path inside the code package.");
        if (s.CodeFileName is not null && (!IsSafeRelativePath(s.CodeFileName) || s.CodeFileName.Contains('/')))
            Add("codeFileName", "codeFileName must be a plain file name.");

        Range(s.MemoryMb, "memoryMb", FunctionLimits.MinMemoryMb, FunctionLimits.MaxMemoryMb);
        Range(s.Vcpus, "vcpus", FunctionLimits.MinVcpus, FunctionLimits.MaxVcpus);
        Range(s.TimeoutMs, "timeoutMs", FunctionLimits.MinTimeoutMs, FunctionLimits.MaxTimeoutMs);
        Range(s.MinReplicas, "minReplicas", 0, FunctionLimits.MaxReplicasLimit);
        Range(s.MaxReplicas, "maxReplicas", 1, FunctionLimits.MaxReplicasLimit);
        Range(s.Concurrency, "concurrency", 1, FunctionLimits.MaxConcurrency);
        Range(s.InstanceConcurrency, "instanceConcurrency", 1, FunctionLimits.MaxInstanceConcurrency);
        Range(s.QueueSize, "queueSize", 0, FunctionLimits.MaxQueueSize);
        Range(s.MaxRetries, "maxRetries", 0, FunctionLimits.MaxRetriesLimit);
        if (s.RateLimitPerSecond is int rate && (rate < 0 || rate > FunctionLimits.MaxRateLimitPerSecond))
            Add("rateLimitPerSecond", $"rateLimitPerSecond must be between 1 and {FunctionLimits.MaxRateLimitPerSecond} (0 removes the limit).");
        if (s.MinReplicas is int min && s.MaxReplicas is int max && min > max)
            Add("minReplicas", "minReplicas must not exceed maxReplicas.");

        if (s.Mode is not null && !ExecutionModes.IsKnown(s.Mode))
            Add("mode", $"mode must be '{ExecutionModes.Process}' or '{ExecutionModes.Persistent}'.");
        if (s.Isolation is not null && !isolations.Contains(s.Isolation))
            Add("isolation", $"unknown isolation '{s.Isolation}'; available: {string.Join(", ", isolations)}.");

        if (s.Network is { } network) ValidateNetwork(network, Add);
        if (s.Kubernetes is { } kubernetes && !FunctionKubernetes.IsKnownStyle(kubernetes.Style))
            Add("kubernetes.style", $"unknown kubernetes style '{kubernetes.Style}'; use '{FunctionKubernetes.WarmStyle}' (pods kept warm) or '{FunctionKubernetes.JobStyle}' (a Job per call).");

        if (s.Env is { } env)
        {
            if (env.Count > FunctionLimits.MaxEnvEntries) Add("env", $"at most {FunctionLimits.MaxEnvEntries} variables.");
            var size = env.Sum(kv => System.Text.Encoding.UTF8.GetByteCount(kv.Key) + 1 + System.Text.Encoding.UTF8.GetByteCount(kv.Value ?? ""));
            if (size > FunctionLimits.MaxEnvBytes)
                Add("env", $"the variables take {size} bytes; at most {FunctionLimits.MaxEnvBytes} in all (as on Lambda). Keep large values in the code or in secrets.");
            foreach (var (key, value) in env.Where(kv => kv.Value is not null && kv.Value.Contains('\0')))
                Add("env", $"'{key}' contains a NUL character.");
            foreach (var key in env.Keys.Where(k => !IsEnvName(k)))
                Add("env", $"'{key}' is not a valid environment variable name.");
        }
        return errors;

        void Range(int? value, string field, int lo, int hi)
        {
            if (value is int v && (v < lo || v > hi)) Add(field, $"{field} must be between {lo} and {hi}.");
        }
    }

    private static void ValidateNetwork(FunctionNetwork network, Action<string, string> add)
    {
        if (!FunctionNetwork.IsKnownMode(network.Mode))
            add("network.mode", $"unknown network mode '{network.Mode}'; use '{FunctionNetwork.NoneMode}' (no network) or '{FunctionNetwork.EgressMode}' (outbound Internet).");
        else if (!network.IsEgress && network.Allow.Count > 0)
            add("network.allow", $"network.allow needs mode '{FunctionNetwork.EgressMode}'.");
        if (network.Allow.Count > FunctionNetwork.MaxAllowEntries)
            add("network.allow", $"at most {FunctionNetwork.MaxAllowEntries} entries.");
        foreach (var entry in network.Allow)
            if (!NetworkAllowEntry.TryParse(entry, out _, out var error))
                add("network.allow", error + " Expected a CIDR range or an address, optionally with :port (10.1.0.0/16, 192.168.1.5:8080, [fd00::1]:443).");
    }

    private static bool IsEnvName(string key) =>
        key.Length is > 0 and <= 256 && (char.IsAsciiLetter(key[0]) || key[0] == '_')
        && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>Relative, no "..", no empty or absolute segments: it cannot point outside the package.</summary>
    public static bool IsSafeRelativePath(string path) =>
        path.Length is > 0 and <= 255 && !path.StartsWith('/') && !path.Contains('\\') && !path.Contains('\0')
        && path.Split('/').All(seg => seg.Length > 0 && seg != ".." && seg != ".");
}
