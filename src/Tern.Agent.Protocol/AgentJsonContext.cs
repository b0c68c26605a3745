using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tern.Agent.Protocol;

/// <summary>Source-generated serialization: no reflection, so the NativeAOT agent can use it.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowOutOfOrderMetadataProperties = true)]
[JsonSerializable(typeof(AgentMessage))]
[JsonSerializable(typeof(OneShotCall))]
[JsonSerializable(typeof(RespMessage))]
public sealed partial class AgentJsonContext : JsonSerializerContext;
