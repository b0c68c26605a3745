using Tern.Core.Functions;

namespace Tern.Api.Serialization;

/// <summary>GET /v1/functions: an object rather than a bare array, so paging fields can be added later.</summary>
public sealed record FunctionList(IReadOnlyList<FunctionDefinition> Functions);
