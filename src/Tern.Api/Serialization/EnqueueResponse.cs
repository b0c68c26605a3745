namespace Tern.Api.Serialization;

public sealed record EnqueueResponse(string ExecutionId, string Status);
