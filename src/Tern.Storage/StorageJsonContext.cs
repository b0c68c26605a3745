using System.Text.Json;
using System.Text.Json.Serialization;
using Tern.Core.Executions;
using Tern.Core.Functions;

namespace Tern.Storage;

/// <summary>How definitions and execution records are kept in the store: the same camelCase JSON as the API, so rows
/// are readable by hand.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(FunctionDefinition))]
[JsonSerializable(typeof(ExecutionRecord))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
