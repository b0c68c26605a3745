namespace Tern.Api.Serialization;

public sealed record HealthReport(string Status, IReadOnlyDictionary<string, string>? Checks = null);
