namespace Tern.Api.Configuration;

/// <summary>Settings from one place (the command line, the environment, a config file), keyed "section:property"
/// (case-insensitive, as IConfiguration keys are), each with where exactly it came from ("--listen",
/// "env TERN_RATE_LIMIT", "file /etc/tern.yaml").</summary>
public sealed class ConfigLayer(string name)
{
    public string Name { get; } = name;

    public Dictionary<string, (string? Value, string Origin)> Values { get; } = new(StringComparer.OrdinalIgnoreCase);

    public void Set(string key, string? value, string origin) => Values[key] = (value, origin);

    /// <summary>The key and everything under it ("callbacks:allow" and "callbacks:allow:0"...).</summary>
    public bool Covers(string key) => Values.Keys.Any(k => IsAtOrUnder(k, key));

    public string? OriginOf(string key) => Values.FirstOrDefault(kv => IsAtOrUnder(kv.Key, key)).Value.Origin;

    /// <summary>True when <paramref name="candidate"/> is <paramref name="key"/> or a key below it (case-insensitive).</summary>
    public static bool IsAtOrUnder(string candidate, string key) =>
        candidate.Equals(key, StringComparison.OrdinalIgnoreCase) || candidate.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase);
}
