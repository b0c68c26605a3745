using Microsoft.AspNetCore.Http;
using Tern.Api.Auth.SigV4;

namespace Tern.Api.Lambda;

/// <summary>The ARNs Tern answers with. There is no AWS account: the account is twelve zeros, and the region is the one
/// the client signed for (its SigV4 credential scope), else us-east-1, so ARNs look as the SDK expects.</summary>
internal static class LambdaArns
{
    public const string Account = "000000000000";
    public const string DefaultRegion = "us-east-1";
    /// <summary>Tern has no IAM; Role is accepted at create (the SDKs require it) and not used.</summary>
    public const string Role = "arn:aws:iam::000000000000:role/tern";

    /// <summary>Parsed once per request (a list answers with many ARNs).</summary>
    public static string Region(HttpRequest request)
    {
        var items = request.HttpContext.Items;
        if (items.TryGetValue(typeof(LambdaArns), out var known) && known is string region) return region;
        region = SigV4Authorization.TryParse(request.Headers.Authorization.ToString(), out var auth, out _) && auth.Region.Length > 0
            ? auth.Region : DefaultRegion;
        items[typeof(LambdaArns)] = region;
        return region;
    }

    public static string Function(HttpRequest request, string name, string? qualifier = null) =>
        $"arn:aws:lambda:{Region(request)}:{Account}:function:{name}" + (qualifier is null ? "" : ":" + qualifier);
}
