using System.Data.Common;
using Microsoft.Extensions.Logging;
using Npgsql;
using Tern.Core.Executions;
using Tern.Storage.Sql;

namespace Tern.Storage.Postgres;

/// <summary>Execution records in Postgres (<see cref="BatchedExecutionStore"/>; writes through
/// <see cref="PostgresExecutionWriter"/>). A completed write is committed with Postgres's default durability
/// (synchronous_commit: the WAL is flushed before the commit returns).
/// The record column holds the JSON as last written; the fields that never change after the insert (function, async,
/// idempotency key, creation time) are read from their columns, so an update cannot alter them and releasing a key
/// is one column write.</summary>
internal sealed partial class PostgresExecutionStore : BatchedExecutionStore
{
    private readonly PostgresDatabase _database;

    public PostgresExecutionStore(PostgresDatabase database, ILogger<PostgresExecutionStore>? logger = null) : base(database, logger)
    {
        _database = database;
        StartWriter();
    }

    protected override IExecutionWriter CreateWriter() => new PostgresExecutionWriter(_database.OpenWriterConnection());

    /// <summary>A lost or refused connection, or the server shutting down or out of resources (classes 08, 53, 57, 58).</summary>
    protected override bool IsEnvironmental(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState[..2] is "08" or "53" or "57" or "58",
        NpgsqlException => true,
        _ => false,
    };

    protected override string RecordColumns => "record, function, async, idempotency_key, created_at";

    protected override ExecutionRecord ReadRecord(DbDataReader reader)
    {
        var record = Deserialize(reader.GetString(0));
        var createdAt = reader.Ticks(4);
        return record with
        {
            Function = reader.GetString(1),
            Async = reader.GetInt32(2) != 0,
            IdempotencyKey = reader.StringOrNull(3),
            // The JSON keeps the offset the caller gave; the column only the instant.
            CreatedAt = record.CreatedAt == createdAt ? record.CreatedAt : createdAt,
        };
    }
}
