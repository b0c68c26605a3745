using System.Text.Json.Serialization;

namespace Tern.Core.Functions;

/// <summary>What network a function's workers get. <c>none</c> (the default): only the sandbox's own loopback.
/// <c>egress</c>: outbound connections through the host, except to loopback, link-local (cloud metadata), private and
/// CGNAT ranges and the host's own addresses, unless <see cref="Allow"/> lists them. In JSON either a string
/// (<c>"egress"</c>) or an object (<c>{"mode": "egress", "allow": ["10.1.2.3/32", "192.168.1.5:8080"]}</c>).</summary>
[JsonConverter(typeof(FunctionNetworkJsonConverter))]
public sealed record FunctionNetwork
{
    public const string NoneMode = "none";
    public const string EgressMode = "egress";
    /// <summary>Enough for a handful of internal services; a longer list belongs in a proxy.</summary>
    public const int MaxAllowEntries = 64;

    public static readonly FunctionNetwork None = new();

    public string Mode { get; init; } = NoneMode;

    /// <summary>Addresses egress may reach although they are in a refused range: see <see cref="NetworkAllowEntry"/>.</summary>
    public IReadOnlyList<string> Allow { get; init; } = [];

    [JsonIgnore]
    public bool IsEgress => Mode == EgressMode;

    public static bool IsKnownMode(string mode) => mode is NoneMode or EgressMode;

    /// <summary>Value equality including the list (records compare lists by reference), so an unchanged network is
    /// recognised as unchanged.</summary>
    public bool Equals(FunctionNetwork? other) =>
        other is not null && Mode == other.Mode && Allow.SequenceEqual(other.Allow, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Mode, Allow.Count);
}
