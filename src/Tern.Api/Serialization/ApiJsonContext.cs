using System.Text.Json;
using System.Text.Json.Serialization;
using Tern.Core.Executions;
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
[JsonSerializable(typeof(EnqueueResponse))]
[JsonSerializable(typeof(ExecutionView))]
[JsonSerializable(typeof(DeadLetterList))]
[JsonSerializable(typeof(ExecutionList))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
