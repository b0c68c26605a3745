using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tern.Api.Auth;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Lambda;

/// <summary>The AWS Lambda API under /2015-03-31/ (the paths the AWS SDKs and CLI call), mapped onto Tern's own
/// functions, versions, aliases and calls (docs/lambda.md). Wiring, so DaemonHost needs one line per step.</summary>
public static class LambdaApi
{
    public const string PathPrefix = "/2015-03-31";

    public static bool IsLambdaPath(PathString path) => path.StartsWithSegments(PathPrefix);

    public static IServiceCollection AddLambdaApi(this IServiceCollection services)
    {
        services.AddSingleton<LambdaConfigurations>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(LambdaJsonContext.Default));
        return services;
    }

    public static IEndpointRouteBuilder MapLambdaApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(PathPrefix).WithTags("Lambda").AddEndpointFilter(LambdaErrors.Filter);
        group.MapLambdaFunctionEndpoints();
        group.MapLambdaInvokeEndpoint();
        group.MapLambdaVersionEndpoints();
        // Anything else under the prefix (another Lambda operation, or a method a path does not take) is Lambda's
        // UnknownOperationException, in the Lambda shape, rather than a bare 404/405.
        app.Map(PathPrefix + "/{**rest}", (HttpContext context) => LambdaErrors.Result(LambdaErrorType.UnknownOperation,
                $"Tern does not implement {context.Request.Method} {context.Request.Path} of the Lambda API; docs/lambda.md lists what it does"))
            .ExcludeFromDescription().RequireRole(ApiKeyRole.Read);
        return app;
    }
}
