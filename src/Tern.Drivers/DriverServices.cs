using Microsoft.Extensions.DependencyInjection;
using Tern.Core.Settings;
using Tern.Drivers.Completions;
using Tern.Drivers.Gvisor;
using Tern.Drivers.Kubernetes;
using Tern.Drivers.Microvm;
using Tern.Drivers.Sandbox;
using Tern.Drivers.Wasm;

namespace Tern.Drivers;

/// <summary>Registers every isolation driver built into Tern, and the registry calls find them by. A new driver adds
/// its own AddXxxDriver here; nothing above this layer names a driver's types.</summary>
public static class DriverServices
{
    public static IServiceCollection AddTernDrivers(this IServiceCollection services)
    {
        services.AddTernSettings<DriverOptions>(DriverOptions.Section);
        services.AddSingleton<ExecutionCompletions>(); // results reported over HTTP (kubernetes Jobs)
        services.AddSingleton<IExecutionCompletions>(sp => sp.GetRequiredService<ExecutionCompletions>());
        services.AddSandboxDriver();
        services.AddGvisorDriver();
        services.AddMicrovmDriver();
        services.AddKubernetesDriver();
        services.AddSingleton<DriverRegistry>();
        // The wasm runtime's host and its precompiled modules (Wasm/): a runtime, not a driver, but it lives in the
        // runtime assets the drivers mount.
        services.AddSingleton<WasmModules>();
        services.AddHealthChecks().AddCheck<WasmHealthCheck>(WasmHealthCheck.Name);
        return services;
    }
}
