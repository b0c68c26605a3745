using Tern.Core.Functions;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tern.Cli.Client;

namespace Tern.Cli;

/// <summary>Source-generated JSON for the typed bodies the CLI sends and reads; responses that are
/// printed are kept as JsonNode so they are shown exactly as the server sent them.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FunctionSettings))]
[JsonSerializable(typeof(ProblemBody))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
