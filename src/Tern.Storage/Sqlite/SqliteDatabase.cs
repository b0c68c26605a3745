using Microsoft.Data.Sqlite;

namespace Tern.Storage.Sqlite;

/// <summary>The embedded database file and its schema. WAL mode lets readers run beside the one writer.</summary>
public sealed class SqliteDatabase
{
    private readonly string _connectionString;

    public SqliteDatabase(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS functions (
                name        TEXT PRIMARY KEY,
                version     INTEGER NOT NULL,
                definition  TEXT NOT NULL,
                updated_at  TEXT NOT NULL
            );
            """);
    }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
