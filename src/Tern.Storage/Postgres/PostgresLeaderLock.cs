using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Tern.Storage.Postgres;

/// <summary>Leadership as a session-level advisory lock (<c>pg_try_advisory_lock</c>) held on a dedicated connection
/// for as long as this daemon leads. The server drops the lock when that session ends, so a leader killed outright
/// (or cut off from the server) frees it within the server's notice of the closed connection; the others try again
/// every <see cref="RecheckInterval"/>. While it holds the lock, each check is one <c>SELECT 1</c> on that connection:
/// a lost connection means lost leadership, never two leaders that both believe it for long (and schedules are
/// claimed by compare-and-set as well, so even that overlap cannot fire a tick twice).</summary>
internal sealed partial class PostgresLeaderLock(PostgresDatabase database, long key, ILogger? logger = null) : ILeaderLock, IAsyncDisposable
{
    /// <summary>The scheduler's lock key ("tern" + "sc" in ASCII; the migrations use "tern").</summary>
    public const long SchedulerKey = 0x7465726E7363;

    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private NpgsqlConnection? _connection;
    private bool _held;

    public TimeSpan RecheckInterval { get; init; } = TimeSpan.FromSeconds(2);

    public async ValueTask<bool> HoldAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _connection ??= await database.OpenDedicatedConnectionAsync(ct).ConfigureAwait(false);
            var sql = _held ? "SELECT true" : $"SELECT pg_try_advisory_lock({key})";
            await using var command = new NpgsqlCommand(sql, _connection);
            var holds = await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is true;
            if (holds != _held) LogChanged(key, holds);
            return _held = holds;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // The session (and with it any lock it held) is gone or unusable: start again on a new one next time.
            if (_held) LogChanged(key, false);
            _held = false;
            if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
            return false;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    [LoggerMessage(EventId = 1210, Level = LogLevel.Information, Message = "leader lock {Key}: this daemon leads now: {Holds}")]
    private partial void LogChanged(long key, bool holds);
}
