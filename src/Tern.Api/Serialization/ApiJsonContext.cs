using System.Text.Json;
using System.Text.Json.Serialization;
using Tern.Core.Functions;
using Tern.Core.Invocations;

namespace Tern.Api.Serialization;

/// <summary>Every type the API reads or writes, source-generated, camelCase.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(FunctionSettings))]
[JsonSerializable(typeof(FunctionDefinition))]
[JsonSerializable(typeof(FunctionList))]
[JsonSerializable(typeof(InvocationResult))]
[JsonSerializable(typeof(HealthReport))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
