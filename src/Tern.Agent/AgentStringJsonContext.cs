using System.Text.Json.Serialization;

namespace Tern.Agent;

[JsonSerializable(typeof(string))]
internal sealed partial class AgentStringJsonContext : JsonSerializerContext;
