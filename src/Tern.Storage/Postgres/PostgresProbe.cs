using System.Net.Sockets;
using Npgsql;

namespace Tern.Storage.Postgres;

/// <summary>Whether a Postgres store can be used now: connects and brings the schema up to date.</summary>
public static class PostgresProbe
{
    /// <summary>Null when the store answered (and is migrated); otherwise why it cannot be reached, in one line without
    /// the password. A schema that is too new or a failed migration is thrown: waiting would not fix it.</summary>
    public static string? Problem(string store)
    {
        using var database = new PostgresDatabase(store);
        try
        {
            database.EnsureReady();
            return null;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            return $"the Postgres store {database.Describe()} does not answer: {e.Message}";
        }
    }
}
