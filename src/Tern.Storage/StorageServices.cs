using Microsoft.Extensions.DependencyInjection;
using Tern.Core.Code;
using Tern.Storage.ApiKeys;
using Tern.Storage.Caching;
using Tern.Storage.Code;
using Tern.Storage.Logs;
using Tern.Storage.Schedules;
using Tern.Storage.Secrets;
using Tern.Storage.Sqlite;

namespace Tern.Storage;

/// <summary>Where the host keeps its data: tern.db, code/, master.key.</summary>
public sealed record StorageLocation(string DataDir);

/// <summary>Registers the embedded stores (SQLite and files under the data directory) and the store's readiness check.
/// Nothing is opened here: the database is opened, and migrated, when first asked for (the host asks at start).</summary>
public static class StorageServices
{
    public static IServiceCollection AddTernStorage(this IServiceCollection services)
    {
        services.AddSingleton(sp => new SqliteDatabase(Path.Combine(sp.GetRequiredService<StorageLocation>().DataDir, "tern.db")));
        services.AddSingleton<IFunctionStore>(sp => new CachingFunctionStore(new SqliteFunctionStore(sp.GetRequiredService<SqliteDatabase>())));
        services.AddSingleton<ICodeStore>(sp => new FileCodeStore(Path.Combine(sp.GetRequiredService<StorageLocation>().DataDir, "code")));
        services.AddSingleton<ICodeSource>(sp => sp.GetRequiredService<ICodeStore>());
        services.AddSingleton<IExecutionStore, SqliteExecutionStore>();
        services.AddSingleton<IScheduleStore>(sp => new SqliteScheduleStore(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton<IVersionStore>(sp => new SqliteVersionStore(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton<ILogStore>(sp => new SqliteLogStore(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton<IApiKeyStore>(sp => new SqliteApiKeyStore(sp.GetRequiredService<SqliteDatabase>()));
        AddSecrets(services);
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("store");
        return services;
    }

    /// <summary>The master key is loaded (or created) when the secret store is first built; a missing or malformed key
    /// is a <see cref="MasterKeyException"/> then, and so is a key that does not open the stored secrets.</summary>
    private static void AddSecrets(IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var database = sp.GetRequiredService<SqliteDatabase>();
            var key = MasterKey.Load(sp.GetRequiredService<StorageLocation>().DataDir,
                Environment.GetEnvironmentVariable(MasterKey.EnvironmentVariable), SqliteSecretStore.CountStored(database));
            return new SecretCipher(key);
        });
        services.AddSingleton(sp =>
        {
            var store = new SqliteSecretStore(sp.GetRequiredService<SqliteDatabase>(), sp.GetRequiredService<SecretCipher>(),
                sp.GetRequiredService<TimeProvider>());
            store.VerifyKey();
            return store;
        });
        services.AddSingleton<ISecretStore>(sp => sp.GetRequiredService<SqliteSecretStore>());
        services.AddSingleton<ISecretResolver>(sp => sp.GetRequiredService<SqliteSecretStore>());
    }
}
