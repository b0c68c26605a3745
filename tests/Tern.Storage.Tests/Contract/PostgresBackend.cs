using Npgsql;
using Tern.Storage.Postgres;
using Tern.Storage.Sql;
using Tern.Testing.Postgres;

namespace Tern.Storage.Tests.Contract;

/// <summary>A real Postgres (<see cref="PostgresTestCluster"/>): the test class's database, and a schema of the test's
/// own in it (the connection's search path), so every test starts empty.</summary>
public sealed class PostgresBackend : StoreBackend
{
    private readonly List<PostgresDatabase> _opened = [];

    internal string ConnectionString { get; private set; } = "";

    internal override async Task InitializeAsync(string testClass)
    {
        var database = await PostgresTestCluster.DatabaseForAsync(testClass);
        var schema = "s_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await create.ExecuteNonQueryAsync();
        }
        ConnectionString = new NpgsqlConnectionStringBuilder(database) { SearchPath = schema }.ConnectionString;
    }

    internal override IStoreDatabase Open()
    {
        var database = new PostgresDatabase(ConnectionString);
        lock (_opened) _opened.Add(database);
        return database;
    }

    internal override BatchedExecutionStore NewExecutionStore(IStoreDatabase database) => new PostgresExecutionStore((PostgresDatabase)database);

    internal override void ForgetConnections()
    {
        lock (_opened)
        {
            foreach (var database in _opened) database.Dispose();
            _opened.Clear();
        }
    }

    internal override async Task<WriteBlocker> BlockWritesAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        // SHARE ROW EXCLUSIVE conflicts with the ROW EXCLUSIVE lock every INSERT and UPDATE takes; reads go on.
        await using var lockTable = new NpgsqlCommand("LOCK TABLE executions IN SHARE ROW EXCLUSIVE MODE", connection, transaction);
        await lockTable.ExecuteNonQueryAsync();
        return new Blocker(connection, transaction);
    }

    public override ValueTask DisposeAsync()
    {
        ForgetConnections();
        return ValueTask.CompletedTask;
    }

    private sealed class Blocker(NpgsqlConnection connection, NpgsqlTransaction transaction) : WriteBlocker
    {
        private bool _committed;

        public override long Count(string executionId)
        {
            using var count = new NpgsqlCommand("SELECT count(*) FROM executions WHERE execution_id = $1", connection, _committed ? null : transaction);
            count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = executionId });
            return (long)count.ExecuteScalar()!;
        }

        public override void Commit()
        {
            transaction.Commit();
            _committed = true;
        }

        public override void Dispose() => connection.Dispose();
    }
}
