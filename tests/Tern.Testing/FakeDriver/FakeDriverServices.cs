using Microsoft.Extensions.DependencyInjection;
using Tern.Drivers;

namespace Tern.Testing.FakeDriver;

/// <summary>The whole of plugging a driver into the daemon: register it as an <see cref="IIsolationDriver"/>.
/// DriverRegistry finds it by <see cref="IIsolationDriver.Name"/>, and functions with that "isolation" run on it.</summary>
public static class FakeDriverServices
{
    public static IServiceCollection AddFakeDriver(this IServiceCollection services, FakeDriver driver)
    {
        services.AddSingleton<IIsolationDriver>(driver);
        return services;
    }
}
