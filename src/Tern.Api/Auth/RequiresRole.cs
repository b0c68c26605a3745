using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Auth;

/// <summary>Endpoint metadata: the least role a key needs for this route. Routes without it need read for GET and
/// HEAD and admin for anything else, so a route added without thought is closed rather than open.</summary>
public sealed record RequiresRole(ApiKeyRole Role)
{
    public static ApiKeyRole For(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<RequiresRole>()?.Role
        ?? (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) ? ApiKeyRole.Read : ApiKeyRole.Admin);
}

public static class RequiresRoleExtensions
{
    public static TBuilder RequireRole<TBuilder>(this TBuilder builder, ApiKeyRole role) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiresRole(role));
}
