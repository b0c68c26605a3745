namespace Tern.Cli.Tests;

/// <summary>A request as the stub daemon saw it.</summary>
internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, string? Body, string? MediaType);
