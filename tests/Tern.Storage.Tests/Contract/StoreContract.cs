using Tern.Storage.Sql;

namespace Tern.Storage.Tests.Contract;

/// <summary>Base of the store contract suite: each abstract test class under Contract/ states what every store must
/// do, and runs once per backend through its subclasses (Sqlite*Tests, Postgres*Tests).</summary>
public abstract class StoreContract<TBackend> : IAsyncLifetime where TBackend : StoreBackend, new()
{
    private protected TBackend Backend { get; } = new();
    private protected IStoreDatabase Database { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        await Backend.InitializeAsync(GetType().Name);
        Database = Backend.Open();
    }

    public virtual async Task DisposeAsync() => await Backend.DisposeAsync();

    /// <summary>A new process on the same data: pooled connections dropped, the database opened again.</summary>
    private protected IStoreDatabase Reopen()
    {
        Backend.ForgetConnections();
        return Database = Backend.Open();
    }
}
