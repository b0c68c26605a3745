using Microsoft.Extensions.DependencyInjection;

namespace Tern.Core.Settings;

public static class SettingsRegistration
{
    /// <summary>Binds <typeparamref name="TOptions"/> to the configuration section <paramref name="section"/> and records
    /// the section, so it is validated at start and shown by `tern daemon --print-config`.</summary>
    public static IServiceCollection AddTernSettings<TOptions>(this IServiceCollection services, string section) where TOptions : class
    {
        services.AddOptions<TOptions>().BindConfiguration(section, binder => binder.ErrorOnUnknownConfiguration = true);
        services.AddSingleton(new SettingsSection(section, typeof(TOptions)));
        return services;
    }
}
