using System.Data.Common;
using Npgsql;
using Tern.Storage.Schema;
using Tern.Storage.Sql;

namespace Tern.Storage.Postgres;

/// <summary>A Postgres server as Tern's store: one <see cref="NpgsqlDataSource"/> (the connection pool) and the schema
/// brought up to date on first use (<see cref="PostgresMigrations"/>). Several daemons may share the database: the
/// migrations run under an advisory lock, so two daemons starting at once apply each step once.</summary>
internal sealed class PostgresDatabase : IStoreDatabase, IDisposable
{
    /// <summary>The key of the advisory lock migrations hold (any constant of Tern's own: "tern" in ASCII).</summary>
    private const long MigrationLockKey = 0x7465726E;

    private static readonly SchemaMigrator Migrator = new(connection =>
    {
        var transaction = connection.BeginTransaction();
        using var command = connection.Command($"SELECT pg_advisory_xact_lock({MigrationLockKey})", transaction);
        command.ExecuteNonQuery();
        return transaction;
    });

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _unpooled;
    private readonly Lock _migrating = new();
    private volatile bool _migrated;

    /// <summary>Throws <see cref="StoreConnectionStringException"/> when <paramref name="connectionString"/> cannot be
    /// parsed; nothing is connected here.</summary>
    public PostgresDatabase(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(PostgresConnectionString.ToNpgsql(connectionString));
        _dataSource = builder.Build();
        _unpooled = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false }.ConnectionString;
    }

    public SqlDialect Dialect => SqlDialect.Postgres;

    /// <summary>Where the store is, without the password (for log lines and readiness).</summary>
    public string Describe()
    {
        var builder = new NpgsqlConnectionStringBuilder(_dataSource.ConnectionString);
        return $"postgres://{builder.Host}:{builder.Port}/{builder.Database}";
    }

    public DbConnection OpenConnection()
    {
        var connection = _dataSource.OpenConnection();
        if (!_migrated) Migrate(connection);
        return connection;
    }

    public async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken ct = default)
    {
        var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        if (!_migrated) Migrate(connection);
        return connection;
    }

    /// <summary>A connection of its own, outside the pool's accounting for readers (the execution writer holds it).</summary>
    public NpgsqlConnection OpenWriterConnection()
    {
        var connection = _dataSource.OpenConnection();
        if (!_migrated) Migrate(connection);
        return connection;
    }

    /// <summary>A connection outside the pool, for session state that must live exactly as long as it (a leader's
    /// advisory lock): closing it ends the session instead of handing it to the next borrower.</summary>
    public async ValueTask<NpgsqlConnection> OpenDedicatedConnectionAsync(CancellationToken ct)
    {
        var connection = new NpgsqlConnection(_unpooled);
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return connection;
    }

    /// <summary>Connects and migrates now; throws what connecting or migrating threw.</summary>
    public void EnsureReady()
    {
        using var connection = OpenConnection();
    }

    private void Migrate(DbConnection connection)
    {
        lock (_migrating)
        {
            if (_migrated) return;
            try
            {
                Migrator.Migrate(connection, PostgresMigrations.All);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
            _migrated = true;
        }
    }

    public void Dispose() => _dataSource.Dispose();
}
