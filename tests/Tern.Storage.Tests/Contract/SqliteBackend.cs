using Microsoft.Data.Sqlite;
using Tern.Storage.Sql;
using Tern.Storage.Sqlite;

namespace Tern.Storage.Tests.Contract;

public sealed class SqliteBackend : StoreBackend
{
    private readonly TempDir _temp = new();

    internal string DbPath => _temp.Combine("tern.db");

    internal override Task InitializeAsync(string testClass) => Task.CompletedTask;

    internal override IStoreDatabase Open() => new SqliteDatabase(DbPath);

    internal override BatchedExecutionStore NewExecutionStore(IStoreDatabase database) => new SqliteExecutionStore((SqliteDatabase)database);

    internal override void ForgetConnections() => SqliteConnection.ClearAllPools();

    internal override Task<WriteBlocker> BlockWritesAsync()
    {
        var connection = new SqliteDatabase(DbPath).Open();
        using var begin = connection.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE"; // the writer cannot commit until this ends
        begin.ExecuteNonQuery();
        return Task.FromResult<WriteBlocker>(new Blocker(connection));
    }

    public override ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools(); // release the pooled handles on the WAL files before deleting them
        _temp.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class Blocker(SqliteConnection connection) : WriteBlocker
    {
        public override long Count(string executionId)
        {
            using var count = connection.CreateCommand();
            count.CommandText = "SELECT count(*) FROM executions WHERE execution_id = $id";
            count.Parameters.AddWithValue("$id", executionId);
            return (long)count.ExecuteScalar()!;
        }

        public override void Commit()
        {
            using var commit = connection.CreateCommand();
            commit.CommandText = "COMMIT";
            commit.ExecuteNonQuery();
        }

        public override void Dispose() => connection.Dispose();
    }
}
