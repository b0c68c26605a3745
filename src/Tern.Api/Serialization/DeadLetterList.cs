using Tern.Core.Executions;

namespace Tern.Api.Serialization;

public sealed record DeadLetterList(IReadOnlyList<ExecutionView> DeadLetters);
