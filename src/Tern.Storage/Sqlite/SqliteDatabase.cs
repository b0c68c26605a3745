using System.Data.Common;
using Microsoft.Data.Sqlite;
using Tern.Storage.Sql;

namespace Tern.Storage.Sqlite;

/// <summary>The embedded database file, its tables brought up to date when it is opened (<see cref="SqliteMigrations"/>).
/// WAL mode lets readers run beside the one writer.</summary>
internal sealed class SqliteDatabase : IStoreDatabase
{
    private readonly string _connectionString;

    public SqliteDatabase(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            """);
        SqliteSchema.Migrate(connection, SqliteMigrations.All);
    }

    /// <summary>A connection of its own (not from the pool), for a caller that drives transactions by hand.</summary>
    public SqliteConnection OpenUnpooled()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder(_connectionString) { Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    public SqlDialect Dialect => SqlDialect.Sqlite;

    DbConnection IStoreDatabase.OpenConnection() => Open();

    ValueTask<DbConnection> IStoreDatabase.OpenConnectionAsync(CancellationToken ct) => ValueTask.FromResult<DbConnection>(Open());

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
