using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tern.Api.Lambda;

// The Lambda API's own shapes (PascalCase, as in botocore's lambda/2015-03-31 service model). Only the fields Tern maps
// are typed; a field Tern cannot honour is typed just enough to be refused by name (LambdaRequests), and the rest of
// Lambda's many optional fields are ignored, so a newer SDK's extra fields do not break a call.

public sealed class LambdaFunctionCode
{
    [JsonPropertyName("ZipFile")] public byte[]? ZipFile { get; set; }
    [JsonPropertyName("S3Bucket")] public string? S3Bucket { get; set; }
    [JsonPropertyName("S3Key")] public string? S3Key { get; set; }
    [JsonPropertyName("ImageUri")] public string? ImageUri { get; set; }
}

public sealed class LambdaEnvironment
{
    [JsonPropertyName("Variables")] public Dictionary<string, string>? Variables { get; set; }
}

public sealed class CreateFunctionRequest
{
    [JsonPropertyName("FunctionName")] public string? FunctionName { get; set; }
    [JsonPropertyName("Runtime")] public string? Runtime { get; set; }
    [JsonPropertyName("Role")] public string? Role { get; set; }
    [JsonPropertyName("Handler")] public string? Handler { get; set; }
    [JsonPropertyName("Code")] public LambdaFunctionCode? Code { get; set; }
    [JsonPropertyName("Description")] public string? Description { get; set; }
    [JsonPropertyName("Timeout")] public int? Timeout { get; set; }
    [JsonPropertyName("MemorySize")] public int? MemorySize { get; set; }
    [JsonPropertyName("Publish")] public bool? Publish { get; set; }
    [JsonPropertyName("PackageType")] public string? PackageType { get; set; }
    [JsonPropertyName("Environment")] public LambdaEnvironment? Environment { get; set; }
    [JsonPropertyName("Layers")] public List<string>? Layers { get; set; }
    [JsonPropertyName("Architectures")] public List<string>? Architectures { get; set; }
}

public sealed class UpdateFunctionCodeRequest
{
    [JsonPropertyName("ZipFile")] public byte[]? ZipFile { get; set; }
    [JsonPropertyName("S3Bucket")] public string? S3Bucket { get; set; }
    [JsonPropertyName("S3Key")] public string? S3Key { get; set; }
    [JsonPropertyName("ImageUri")] public string? ImageUri { get; set; }
    [JsonPropertyName("Publish")] public bool? Publish { get; set; }
    [JsonPropertyName("DryRun")] public bool? DryRun { get; set; }
    [JsonPropertyName("RevisionId")] public string? RevisionId { get; set; }
    [JsonPropertyName("Architectures")] public List<string>? Architectures { get; set; }
}

public sealed class UpdateFunctionConfigurationRequest
{
    [JsonPropertyName("Role")] public string? Role { get; set; }
    [JsonPropertyName("Handler")] public string? Handler { get; set; }
    [JsonPropertyName("Description")] public string? Description { get; set; }
    [JsonPropertyName("Timeout")] public int? Timeout { get; set; }
    [JsonPropertyName("MemorySize")] public int? MemorySize { get; set; }
    [JsonPropertyName("Environment")] public LambdaEnvironment? Environment { get; set; }
    [JsonPropertyName("Runtime")] public string? Runtime { get; set; }
    [JsonPropertyName("RevisionId")] public string? RevisionId { get; set; }
    [JsonPropertyName("Layers")] public List<string>? Layers { get; set; }
}

public sealed class PublishVersionRequest
{
    [JsonPropertyName("CodeSha256")] public string? CodeSha256 { get; set; }
    [JsonPropertyName("Description")] public string? Description { get; set; }
    [JsonPropertyName("RevisionId")] public string? RevisionId { get; set; }
}

public sealed class AliasRoutingConfiguration
{
    /// <summary>Version -> share of calls (0.0..1.0). Tern splits an alias between two versions, in whole percent.</summary>
    [JsonPropertyName("AdditionalVersionWeights")] public Dictionary<string, double>? AdditionalVersionWeights { get; set; }
}

public sealed class CreateAliasRequest
{
    [JsonPropertyName("Name")] public string? Name { get; set; }
    [JsonPropertyName("FunctionVersion")] public string? FunctionVersion { get; set; }
    [JsonPropertyName("Description")] public string? Description { get; set; }
    [JsonPropertyName("RoutingConfig")] public AliasRoutingConfiguration? RoutingConfig { get; set; }
}

public sealed class UpdateAliasRequest
{
    [JsonPropertyName("FunctionVersion")] public string? FunctionVersion { get; set; }
    [JsonPropertyName("Description")] public string? Description { get; set; }
    [JsonPropertyName("RoutingConfig")] public AliasRoutingConfiguration? RoutingConfig { get; set; }
    [JsonPropertyName("RevisionId")] public string? RevisionId { get; set; }
}

/// <summary>FunctionConfiguration: what Create/Get/Update/Publish answer, and each entry of the lists.</summary>
public sealed class FunctionConfiguration
{
    [JsonPropertyName("FunctionName")] public required string FunctionName { get; init; }
    [JsonPropertyName("FunctionArn")] public required string FunctionArn { get; init; }
    [JsonPropertyName("Runtime")] public required string Runtime { get; init; }
    [JsonPropertyName("Role")] public string Role { get; init; } = LambdaArns.Role;
    [JsonPropertyName("Handler")] public required string Handler { get; init; }
    [JsonPropertyName("CodeSize")] public long CodeSize { get; init; }
    [JsonPropertyName("Description")] public string Description { get; init; } = "";
    [JsonPropertyName("Timeout")] public int Timeout { get; init; }
    [JsonPropertyName("MemorySize")] public int MemorySize { get; init; }
    [JsonPropertyName("LastModified")] public required string LastModified { get; init; }
    [JsonPropertyName("CodeSha256")] public required string CodeSha256 { get; init; }
    [JsonPropertyName("Version")] public required string Version { get; init; }
    [JsonPropertyName("Environment")] public LambdaEnvironment? Environment { get; init; }
    [JsonPropertyName("RevisionId")] public required string RevisionId { get; init; }
    [JsonPropertyName("State")] public string State { get; init; } = "Active";
    [JsonPropertyName("LastUpdateStatus")] public string LastUpdateStatus { get; init; } = "Successful";
    [JsonPropertyName("PackageType")] public string PackageType { get; init; } = "Zip";
    [JsonPropertyName("Architectures")] public string[] Architectures { get; init; } = ["x86_64"];
}

public sealed class FunctionCodeLocation
{
    [JsonPropertyName("RepositoryType")] public string RepositoryType { get; init; } = "Tern";
}

public sealed record GetFunctionResponse(
    [property: JsonPropertyName("Configuration")] FunctionConfiguration Configuration,
    [property: JsonPropertyName("Code")] FunctionCodeLocation Code);

public sealed record ListFunctionsResponse(
    [property: JsonPropertyName("Functions")] IReadOnlyList<FunctionConfiguration> Functions,
    [property: JsonPropertyName("NextMarker")] string? NextMarker);

public sealed record ListVersionsResponse(
    [property: JsonPropertyName("Versions")] IReadOnlyList<FunctionConfiguration> Versions,
    [property: JsonPropertyName("NextMarker")] string? NextMarker);

public sealed class AliasConfiguration
{
    [JsonPropertyName("AliasArn")] public required string AliasArn { get; init; }
    [JsonPropertyName("Name")] public required string Name { get; init; }
    [JsonPropertyName("FunctionVersion")] public required string FunctionVersion { get; init; }
    [JsonPropertyName("Description")] public string Description { get; init; } = "";
    [JsonPropertyName("RoutingConfig")] public AliasRoutingConfiguration? RoutingConfig { get; init; }
    [JsonPropertyName("RevisionId")] public required string RevisionId { get; init; }
}

public sealed record ListAliasesResponse(
    [property: JsonPropertyName("Aliases")] IReadOnlyList<AliasConfiguration> Aliases,
    [property: JsonPropertyName("NextMarker")] string? NextMarker);

/// <summary>Lambda's shapes, source-generated with the names as written above (PascalCase); nulls are left out.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateFunctionRequest))]
[JsonSerializable(typeof(UpdateFunctionCodeRequest))]
[JsonSerializable(typeof(UpdateFunctionConfigurationRequest))]
[JsonSerializable(typeof(PublishVersionRequest))]
[JsonSerializable(typeof(CreateAliasRequest))]
[JsonSerializable(typeof(UpdateAliasRequest))]
[JsonSerializable(typeof(FunctionConfiguration))]
[JsonSerializable(typeof(GetFunctionResponse))]
[JsonSerializable(typeof(ListFunctionsResponse))]
[JsonSerializable(typeof(ListVersionsResponse))]
[JsonSerializable(typeof(AliasConfiguration))]
[JsonSerializable(typeof(ListAliasesResponse))]
internal sealed partial class LambdaJsonContext : JsonSerializerContext;
