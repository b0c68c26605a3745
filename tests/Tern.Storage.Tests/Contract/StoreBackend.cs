using Tern.Storage.Sql;

namespace Tern.Storage.Tests.Contract;

/// <summary>The database one contract test runs on: SQLite (a file in a temp dir) or a real Postgres (a fresh schema in
/// its test class's database). Each test gets its own, empty.</summary>
public abstract class StoreBackend : IAsyncDisposable
{
    /// <summary>Prepares the test's empty database; <paramref name="testClass"/> names the class (Postgres: one database
    /// per class).</summary>
    internal abstract Task InitializeAsync(string testClass);

    /// <summary>Opens the test's database; a second call is a restart: new connections over the same data.</summary>
    internal abstract IStoreDatabase Open();

    internal abstract BatchedExecutionStore NewExecutionStore(IStoreDatabase database);

    /// <summary>Drops every pooled connection, as a process that exits would.</summary>
    internal abstract void ForgetConnections();

    /// <summary>Holds a lock that keeps the execution writer from committing until the blocker commits.</summary>
    internal abstract Task<WriteBlocker> BlockWritesAsync();

    public abstract ValueTask DisposeAsync();
}

/// <summary>Another connection holding the database's write lock (SQLite) or a lock on the executions table (Postgres).</summary>
internal abstract class WriteBlocker : IDisposable
{
    /// <summary>How many rows with this id this connection sees.</summary>
    public abstract long Count(string executionId);

    public abstract void Commit();

    public abstract void Dispose();
}
