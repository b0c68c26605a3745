using Tern.Core.Executions;

namespace Tern.Api.Serialization;

/// <summary>GET /v1/executions: one page, newest first; <see cref="NextCursor"/> (null on the last page) fetches the next.</summary>
public sealed record ExecutionList(IReadOnlyList<ExecutionView> Executions, string? NextCursor);
