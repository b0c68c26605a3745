using System.Text.Json;
using System.Text.Json.Serialization;
using Tern.Core.Executions;

namespace Tern.Invocation;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ExecutionView))]
internal sealed partial class InvocationJsonContext : JsonSerializerContext;
