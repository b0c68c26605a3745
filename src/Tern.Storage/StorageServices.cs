using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tern.Core.Code;
using Tern.Storage.ApiKeys;
using Tern.Storage.Caching;
using Tern.Storage.Code;
using Tern.Storage.Logs;
using Tern.Storage.Postgres;
using Tern.Storage.Schedules;
using Tern.Storage.Secrets;
using Tern.Storage.Sql;
using Tern.Storage.Sqlite;

namespace Tern.Storage;

/// <summary>Where the host keeps its data: the data directory (code cache, master.key, tern.db for SQLite) and the
/// store setting: "sqlite" (the default) or a Postgres connection string.</summary>
public sealed record StorageLocation(string DataDir, string Store = PostgresConnectionString.Sqlite)
{
    public bool IsPostgres => PostgresConnectionString.IsPostgres(Store);
}

/// <summary>Registers the stores (SQLite under the data directory, or Postgres), the code store and the store's
/// readiness check. Nothing is opened here: the database is opened, and migrated, when first asked for (the host asks
/// at start).</summary>
public static class StorageServices
{
    /// <summary>How long a daemon sharing its store trusts a cached function definition.</summary>
    public static readonly TimeSpan SharedDefinitionTtl = TimeSpan.FromSeconds(2);

    public static IServiceCollection AddTernStorage(this IServiceCollection services)
    {
        services.AddSingleton<IStoreDatabase>(sp =>
        {
            var location = sp.GetRequiredService<StorageLocation>();
            return location.IsPostgres
                ? new PostgresDatabase(location.Store)
                : new SqliteDatabase(Path.Combine(location.DataDir, "tern.db"));
        });
        services.AddSingleton<IFunctionStore>(sp =>
        {
            var database = sp.GetRequiredService<IStoreDatabase>();
            // Daemons sharing Postgres see each other's definition changes within SharedDefinitionTtl.
            return new CachingFunctionStore(new SqlFunctionStore(database), database is PostgresDatabase ? SharedDefinitionTtl : null);
        });
        services.AddSingleton<ICodeStore>(sp =>
        {
            var cache = new FileCodeStore(Path.Combine(sp.GetRequiredService<StorageLocation>().DataDir, "code"));
            return sp.GetRequiredService<IStoreDatabase>() is PostgresDatabase postgres ? new PostgresCodeStore(cache, postgres) : cache;
        });
        services.AddSingleton<ICodeSource>(sp => sp.GetRequiredService<ICodeStore>());
        services.AddSingleton<IExecutionStore>(sp => sp.GetRequiredService<IStoreDatabase>() switch
        {
            PostgresDatabase postgres => new PostgresExecutionStore(postgres, sp.GetService<ILogger<PostgresExecutionStore>>()),
            var database => new SqliteExecutionStore((SqliteDatabase)database, sp.GetService<ILogger<SqliteExecutionStore>>()),
        });
        services.AddSingleton<ILeaderLock>(sp => sp.GetRequiredService<IStoreDatabase>() is PostgresDatabase postgres
            ? new PostgresLeaderLock(postgres, PostgresLeaderLock.SchedulerKey, sp.GetService<ILogger<PostgresLeaderLock>>())
            : new SoleLeader());
        services.AddSingleton<IScheduleStore>(sp => new SqlScheduleStore(sp.GetRequiredService<IStoreDatabase>()));
        services.AddSingleton<IVersionStore>(sp => new SqlVersionStore(sp.GetRequiredService<IStoreDatabase>()));
        services.AddSingleton<ILogStore>(sp => new SqlLogStore(sp.GetRequiredService<IStoreDatabase>()));
        services.AddSingleton<IApiKeyStore>(sp => new SqlApiKeyStore(sp.GetRequiredService<IStoreDatabase>()));
        AddSecrets(services);
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("store");
        return services;
    }

    /// <summary>The master key is loaded (or created) when the secret store is first built; a missing or malformed key
    /// is a <see cref="MasterKeyException"/> then, and so is a key that does not open the stored secrets. Daemons sharing
    /// a Postgres store must share the key too (TERN_MASTER_KEY, or the same master.key file).</summary>
    private static void AddSecrets(IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var database = sp.GetRequiredService<IStoreDatabase>();
            var key = MasterKey.Load(sp.GetRequiredService<StorageLocation>().DataDir,
                Environment.GetEnvironmentVariable(MasterKey.EnvironmentVariable), SqlSecretStore.CountStored(database));
            return new SecretCipher(key);
        });
        services.AddSingleton(sp =>
        {
            var store = new SqlSecretStore(sp.GetRequiredService<IStoreDatabase>(), sp.GetRequiredService<SecretCipher>(),
                sp.GetRequiredService<TimeProvider>());
            store.VerifyKey();
            return store;
        });
        services.AddSingleton<ISecretStore>(sp => sp.GetRequiredService<SqlSecretStore>());
        services.AddSingleton<ISecretResolver>(sp => sp.GetRequiredService<SqlSecretStore>());
    }
}
