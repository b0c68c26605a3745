using Microsoft.Extensions.DependencyInjection;
using Tern.Storage.Secrets;
using Tern.Storage.Sqlite;

namespace Tern.Api.Hosting;

/// <summary>Registers the secret store. The master key is loaded (or created) here, so a missing or malformed key
/// stops the daemon at Build with a <see cref="MasterKeyException"/>; a key that does not open the stored secrets
/// is found when the store is first built, at startup.</summary>
internal static class SecretServices
{
    public static IServiceCollection AddTernSecrets(this IServiceCollection services, string dataDir, SqliteDatabase database)
    {
        var stored = SqliteSecretStore.CountStored(database);
        var cipher = new SecretCipher(MasterKey.Load(dataDir, Environment.GetEnvironmentVariable(MasterKey.EnvironmentVariable), stored));
        services.AddSingleton(cipher);
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(Endpoints.SecretJsonContext.Default));
        services.AddSingleton(sp =>
        {
            var store = new SqliteSecretStore(sp.GetRequiredService<SqliteDatabase>(), cipher, sp.GetRequiredService<TimeProvider>());
            store.VerifyKey();
            return store;
        });
        services.AddSingleton<ISecretStore>(sp => sp.GetRequiredService<SqliteSecretStore>());
        services.AddSingleton<ISecretResolver>(sp => sp.GetRequiredService<SqliteSecretStore>());
        return services;
    }
}
