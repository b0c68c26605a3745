using System.Globalization;
using Microsoft.AspNetCore.Http;
using Tern.Core.Code;
using Tern.Core.Functions;

namespace Tern.Api.Lambda;

/// <summary>Tern's function model seen as Lambda's FunctionConfiguration and AliasConfiguration.</summary>
internal sealed class LambdaConfigurations(ICodeSource code)
{
    /// <param name="version">A published version number, or null for $LATEST.</param>
    /// <param name="description">A published version's description (functions themselves have none in Tern).</param>
    public async Task<FunctionConfiguration> ForAsync(HttpRequest request, FunctionDefinition function, int? version, string? description,
        CancellationToken ct)
    {
        var label = version?.ToString(CultureInfo.InvariantCulture) ?? Qualifiers.Latest;
        return new FunctionConfiguration
        {
            FunctionName = function.Name,
            FunctionArn = LambdaArns.Function(request, function.Name, version is null ? null : label),
            Runtime = LambdaRuntimes.ToLambda(function),
            Handler = function.Handler,
            CodeSize = await CodeSizeAsync(function, ct),
            Description = description ?? "",
            Timeout = (int)Math.Ceiling(function.TimeoutMs / 1000.0),
            MemorySize = function.MemoryMb,
            LastModified = function.UpdatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+0000'", CultureInfo.InvariantCulture),
            CodeSha256 = CodeSha256(function),
            Version = label,
            Environment = function.Env.Count == 0 ? null : new LambdaEnvironment { Variables = new Dictionary<string, string>(function.Env) },
            RevisionId = RevisionId(function),
        };
    }

    public Task<FunctionConfiguration> ForAsync(HttpRequest request, PublishedVersion published, CancellationToken ct) =>
        ForAsync(request, published.Definition, published.Version, published.Description, ct);

    public static AliasConfiguration ForAlias(HttpRequest request, FunctionAlias alias) => new()
    {
        AliasArn = LambdaArns.Function(request, alias.Function, alias.Name),
        Name = alias.Name,
        FunctionVersion = alias.Version.ToString(CultureInfo.InvariantCulture),
        Description = alias.Description ?? "",
        RoutingConfig = alias is { AdditionalVersion: int extra, AdditionalWeight: int weight }
            ? new AliasRoutingConfiguration { AdditionalVersionWeights = new() { [extra.ToString(CultureInfo.InvariantCulture)] = weight / 100.0 } }
            : null,
        RevisionId = alias.UpdatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Tern's configuration revision (bumped by every update), which a RevisionId precondition compares.</summary>
    public static string RevisionId(FunctionDefinition function) => function.Revision.ToString(CultureInfo.InvariantCulture);

    /// <summary>Lambda's CodeSha256 is the base64 of the package's SHA-256; Tern's codeHash is the same digest in hex.</summary>
    public static string CodeSha256(FunctionDefinition function) =>
        function.CodeHash.Length == 64 ? Convert.ToBase64String(Convert.FromHexString(function.CodeHash)) : "";

    /// <summary>The size of the package as uploaded (the stored blob).</summary>
    private async Task<long> CodeSizeAsync(FunctionDefinition function, CancellationToken ct)
    {
        try
        {
            await using var package = await code.OpenPackageAsync(new CodeRef(function.CodeHash, function.CodeFileName), ct);
            return package.Length;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }
}
