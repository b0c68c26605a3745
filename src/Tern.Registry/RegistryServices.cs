using Microsoft.Extensions.DependencyInjection;
using Tern.Core.Functions;

namespace Tern.Registry;

/// <summary>Registers the function registry (definitions and code) and published versions with their aliases.</summary>
public static class RegistryServices
{
    public static IServiceCollection AddTernRegistry(this IServiceCollection services)
    {
        services.AddSingleton<FunctionRegistry>();
        services.AddSingleton<FunctionVersions>();
        services.AddSingleton<IFunctionObserver>(sp => sp.GetRequiredService<FunctionVersions>());
        services.AddHostedService<WasmPrecompileAtStart>();
        return services;
    }
}
