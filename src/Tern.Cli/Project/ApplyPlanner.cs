using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Tern.Cli.Client;
using Tern.Cli.Packaging;
using Tern.Core.Functions;

namespace Tern.Cli.Project;

/// <summary>One line of the plan (`+`, `~`, `-`, `=`, `!`) and the write that carries it out (null: nothing to do).</summary>
internal sealed record PlanStep(string Line, Func<CancellationToken, Task>? Execute);

/// <summary>Compares a tern.yaml with what the daemon holds, using reads only, and returns the writes that would make
/// them match. Everything that can fail locally (code paths, aliases to versions that do not exist) fails here, before
/// any write.</summary>
internal static class ApplyPlanner
{
    public static async Task<List<PlanStep>> PlanAsync(TernClient client, ProjectFile project, string yamlPath, bool prune,
        CancellationToken ct)
    {
        var yamlFull = Path.GetFullPath(yamlPath);
        var baseDir = Path.GetDirectoryName(yamlFull)!;
        var steps = new List<PlanStep>();
        foreach (var spec in project.Functions!)
        {
            var name = spec.Name!;
            var code = spec.Code is null ? null : CodePackager.Package(Path.GetFullPath(Path.Combine(baseDir, spec.Code)), [yamlFull]);
            var current = await GetOrNullAsync(client, name, ct);
            if (current is null)
            {
                if (spec.Runtime is null || code is null)
                    throw new CliException($"function '{name}' does not exist yet: its entry needs runtime and code to create it");
                var create = Settings(spec);
                create.Name = name;
                SetCode(create, code);
                steps.Add(new PlanStep($"+ function {name}", c => client.CreateAsync(create, c)));
                if (spec.Aliases is { Count: > 0 } aliases)
                    throw MissingVersion(name, aliases.First().Key, aliases.First().Value.Version!.Value);
            }
            else
            {
                steps.Add(FunctionStep(client, spec, current, code));
                if (spec.Aliases is { Count: > 0 }) steps.AddRange(await AliasStepsAsync(client, spec, ct));
            }
            steps.AddRange(await ScheduleStepsAsync(client, spec, exists: current is not null, prune, ct));
        }
        return steps;
    }

    private static async Task<JsonNode?> GetOrNullAsync(TernClient client, string name, CancellationToken ct)
    {
        try
        {
            return await client.GetAsync(name, ct);
        }
        catch (TernApiException e) when (e.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The fields of <paramref name="spec"/> other than code, as a request body.</summary>
    private static FunctionSettings Settings(FunctionSpec spec) => new()
    {
        Runtime = spec.Runtime, Handler = spec.Handler, MemoryMb = spec.MemoryMb, Vcpus = spec.Vcpus, TimeoutMs = spec.TimeoutMs,
        Env = spec.Env, Mode = spec.Mode, MinReplicas = spec.MinReplicas, MaxReplicas = spec.MaxReplicas,
        Concurrency = spec.Concurrency, InstanceConcurrency = spec.InstanceConcurrency, QueueSize = spec.QueueSize,
        MaxRetries = spec.MaxRetries, Isolation = spec.Isolation, RateLimitPerSecond = spec.RateLimitPerSecond,
        Network = Network(spec), Kubernetes = Kubernetes(spec),
    };

    private static FunctionKubernetes? Kubernetes(FunctionSpec spec) =>
        spec.Kubernetes?.Style is { } style ? new FunctionKubernetes { Style = style } : null;

    /// <summary>The yaml's network in the API's shape (a string or an object); a wrong shape is one error line.</summary>
    private static FunctionNetwork? Network(FunctionSpec spec)
    {
        if (spec.Network is null) return null;
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize(spec.Network, CliJsonContext.Default.FunctionNetwork);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new CliException($"function {spec.Name}: {e.Message}");
        }
    }

    private static void SetCode(FunctionSettings settings, CodePackage code)
    {
        settings.Code = Convert.ToBase64String(code.Bytes);
        settings.CodeFileName = code.FileName;
    }

    /// <summary>`=` or `~` with a PATCH of only the fields the yaml gives that differ from the daemon's.</summary>
    private static PlanStep FunctionStep(TernClient client, FunctionSpec spec, JsonNode current, CodePackage? code)
    {
        var name = spec.Name!;
        var patch = new FunctionSettings();
        var changes = new List<string>();

        void Field<T>(string key, T? desired, Action<FunctionSettings> set)
        {
            if (desired is null) return;
            var want = JsonValue.Create(desired)!.ToJsonString();
            var have = current[key]?.ToJsonString() ?? "null";
            if (want == have) return;
            changes.Add($"{key} {have} -> {want}");
            set(patch);
        }

        Field("runtime", spec.Runtime, p => p.Runtime = spec.Runtime);
        Field("handler", spec.Handler, p => p.Handler = spec.Handler);
        Field("memoryMb", spec.MemoryMb, p => p.MemoryMb = spec.MemoryMb);
        Field("vcpus", spec.Vcpus, p => p.Vcpus = spec.Vcpus);
        Field("timeoutMs", spec.TimeoutMs, p => p.TimeoutMs = spec.TimeoutMs);
        Field("mode", spec.Mode, p => p.Mode = spec.Mode);
        Field("minReplicas", spec.MinReplicas, p => p.MinReplicas = spec.MinReplicas);
        Field("maxReplicas", spec.MaxReplicas, p => p.MaxReplicas = spec.MaxReplicas);
        Field("concurrency", spec.Concurrency, p => p.Concurrency = spec.Concurrency);
        Field("instanceConcurrency", spec.InstanceConcurrency, p => p.InstanceConcurrency = spec.InstanceConcurrency);
        Field("queueSize", spec.QueueSize, p => p.QueueSize = spec.QueueSize);
        Field("maxRetries", spec.MaxRetries, p => p.MaxRetries = spec.MaxRetries);
        Field("isolation", spec.Isolation, p => p.Isolation = spec.Isolation);
        Field("rateLimitPerSecond", spec.RateLimitPerSecond, p => p.RateLimitPerSecond = spec.RateLimitPerSecond);
        if (Network(spec) is { } network)
        {
            // Compared in the daemon's written form (always the object), so "egress" equals {mode: egress, allow: []}.
            var want = System.Text.Json.JsonSerializer.Serialize(network, CliJsonContext.Default.FunctionNetwork);
            var have = current["network"]?.ToJsonString() ?? "null";
            if (want != have)
            {
                changes.Add($"network {have} -> {want}");
                patch.Network = network;
            }
        }
        if (Kubernetes(spec) is { } kubernetes)
        {
            var have = (string?)current["kubernetes"]?["style"] ?? FunctionKubernetes.WarmStyle;
            if (kubernetes.Style != have)
            {
                changes.Add($"kubernetes.style {have} -> {kubernetes.Style}");
                patch.Kubernetes = kubernetes;
            }
        }
        if (spec.Env is not null && !SameEnv(spec.Env, current["env"] as JsonObject))
        {
            changes.Add("env changed");
            patch.Env = spec.Env;
        }
        if (code is not null)
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(code.Bytes));
            var haveFileName = (string?)current["codeFileName"];
            if (!string.Equals(hash, (string?)current["codeHash"], StringComparison.OrdinalIgnoreCase)
                || (code.FileName is not null && code.FileName != haveFileName))
            {
                changes.Add("code changed");
                SetCode(patch, code);
            }
        }

        return changes.Count == 0
            ? new PlanStep($"= function {name}", null)
            : new PlanStep($"~ function {name}: {string.Join(", ", changes)}", c => client.UpdateAsync(name, patch, c));
    }

    private static bool SameEnv(Dictionary<string, string> desired, JsonObject? current)
    {
        current ??= [];
        if (desired.Count != current.Count) return false;
        foreach (var (key, value) in desired)
            if (!current.TryGetPropertyValue(key, out var have) || have?.GetValueKind() != System.Text.Json.JsonValueKind.String
                || (string?)have != value)
                return false;
        return true;
    }

    private static async Task<List<PlanStep>> AliasStepsAsync(TernClient client, FunctionSpec spec, CancellationToken ct)
    {
        var name = spec.Name!;
        var existing = ((await client.ListAliasesAsync(name, ct))["aliases"] as JsonArray ?? [])
            .Where(a => a is not null).ToDictionary(a => (string)a!["name"]!, a => a!, StringComparer.Ordinal);
        HashSet<int>? published = null;
        var steps = new List<PlanStep>();
        foreach (var (alias, want) in spec.Aliases!)
        {
            var target = Target(want.Version, want.AdditionalVersion, want.AdditionalWeight);
            if (existing.TryGetValue(alias, out var have)
                && (int?)have["version"] == want.Version && (int?)have["additionalVersion"] == want.AdditionalVersion
                && (want.AdditionalVersion is null || (int?)have["additionalWeight"] == want.AdditionalWeight))
            {
                steps.Add(new PlanStep($"= alias {name}:{alias}", null));
                continue;
            }
            published ??= [.. ((await client.ListVersionsAsync(name, ct))["versions"] as JsonArray ?? [])
                .Select(v => (int?)v?["version"] ?? 0)];
            foreach (var version in new[] { want.Version, want.AdditionalVersion })
                if (version is { } v && !published.Contains(v)) throw MissingVersion(name, alias, v);
            var line = have is null
                ? $"+ alias {name}:{alias} -> {target}"
                : $"~ alias {name}:{alias}: {Target((int?)have["version"], (int?)have["additionalVersion"], (int?)have["additionalWeight"])} -> {target}";
            steps.Add(new PlanStep(line, c => client.SetAliasAsync(name, alias, want.Version!.Value, want.AdditionalVersion, want.AdditionalWeight, c)));
        }
        return steps;
    }

    private static CliException MissingVersion(string function, string alias, int version) =>
        new($"alias {function}:{alias} points at version {version}, which does not exist yet: apply the function, " +
            $"run `tern version publish {function}`, then apply again");

    private static string Target(int? version, int? additional, int? weight) =>
        additional is null ? $"{version}" : $"{version} + {additional} ({weight}%)";

    private static async Task<List<PlanStep>> ScheduleStepsAsync(TernClient client, FunctionSpec spec, bool exists, bool prune,
        CancellationToken ct)
    {
        var name = spec.Name!;
        var remaining = exists
            ? ((await client.ListSchedulesAsync(name, ct))["schedules"] as JsonArray ?? []).Where(s => s is not null).Select(s => s!).ToList()
            : [];
        var steps = new List<PlanStep>();
        foreach (var want in spec.Schedules ?? [])
        {
            var zone = string.IsNullOrEmpty(want.Timezone) ? "UTC" : want.Timezone;
            var label = $"schedule {name} \"{want.Expression}\" ({zone})";
            var match = remaining.FirstOrDefault(s => (string?)s["expression"] == want.Expression && ((string?)s["timezone"] ?? "UTC") == zone);
            if (match is null)
            {
                var body = new JsonObject { ["function"] = name, ["expression"] = want.Expression };
                if (!string.IsNullOrEmpty(want.Timezone)) body["timezone"] = want.Timezone;
                if (want.Payload is not null) body["payload"] = want.Payload.DeepClone();
                steps.Add(new PlanStep("+ " + label, c => client.CreateScheduleAsync(body, c)));
                continue;
            }
            remaining.Remove(match);
            if (want.Payload is not null && !JsonNode.DeepEquals(want.Payload, match["payload"]))
            {
                var id = (string)match["id"]!;
                var patch = new JsonObject { ["payload"] = want.Payload.DeepClone() };
                steps.Add(new PlanStep($"~ {label}: payload changed", c => client.UpdateScheduleAsync(id, patch, c)));
            }
            else
            {
                steps.Add(new PlanStep("= " + label, null));
            }
        }
        foreach (var extra in remaining)
        {
            var id = (string)extra["id"]!;
            var label = $"schedule {name} \"{(string?)extra["expression"]}\" ({(string?)extra["timezone"] ?? "UTC"}) [{id}]";
            steps.Add(prune
                ? new PlanStep("- " + label, c => client.DeleteScheduleAsync(id, c))
                : new PlanStep($"! extra {label} (use --prune)", null));
        }
        return steps;
    }
}
