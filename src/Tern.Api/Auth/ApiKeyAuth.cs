using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tern.Api.Hosting;

namespace Tern.Api.Auth;

/// <summary>Wiring for API keys, so DaemonHost needs one line per step.</summary>
public static class ApiKeyAuth
{
    public static IServiceCollection AddApiKeyAuth(this IServiceCollection services, DaemonOptions options)
    {
        services.AddSingleton(new ApiKeyAuthOptions(AuthModes.IsEnabled(options.Auth, options.ListenUrl)));
        services.AddSingleton<ApiKeyService>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(ApiKeyJsonContext.Default));
        return services;
    }

    /// <summary>The auth check plus the /v1/api-keys routes.</summary>
    public static WebApplication UseApiKeyAuth(this WebApplication app)
    {
        app.UseMiddleware<ApiKeyAuthMiddleware>();
        app.MapApiKeyEndpoints();
        return app;
    }

    /// <summary>Creates the first key when auth is on and none is usable, and prints it once to
    /// <paramref name="stdout"/>: it goes nowhere else (not to the logger, not to disk; only its hash is stored).</summary>
    public static async Task AnnounceBootstrapKeyAsync(IServiceProvider services, TextWriter stdout, CancellationToken ct)
    {
        if (await services.GetRequiredService<ApiKeyService>().CreateBootstrapKeyIfNeededAsync(ct) is not { } key) return;
        stdout.WriteLine($"tern: auth is on and no API key exists; created the '{ApiKeyService.BootstrapKeyName}' key below. It is shown only this once:");
        stdout.WriteLine(key);
        stdout.Flush();
    }
}
