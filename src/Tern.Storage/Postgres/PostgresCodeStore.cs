using System.Data;
using Npgsql;
using Tern.Core.Code;
using Tern.Storage.Code;

namespace Tern.Storage.Postgres;

/// <summary>Code for several daemons: every package is kept in the Postgres table <c>code</c> (the upload's bytes by
/// sha256), and each daemon's data directory holds a local cache (<see cref="FileCodeStore"/>: the blob and the
/// unpacked zip) that drivers mount. A daemon that did not receive an upload materialises the package into its cache
/// on first use, from the database. Packages are at most FunctionLimits.MaxCodeBytes (50 MB), well inside bytea's 1 GB.</summary>
internal sealed class PostgresCodeStore(FileCodeStore cache, PostgresDatabase database) : ICodeStore
{
    private readonly SemaphoreSlim _materialising = new(1, 1);

    public async Task<StoredCode> SaveAsync(Stream content, bool unpackZip = true, CancellationToken ct = default)
    {
        var stored = await cache.SaveAsync(content, unpackZip, ct).ConfigureAwait(false);
        await using var connection = (NpgsqlConnection)await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM code WHERE hash = $1", connection))
        {
            exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stored.Hash });
            if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null) return stored;
        }
        // The blob as received, streamed from the cache (never whole in memory here).
        await using var blob = await cache.OpenPackageAsync(new CodeRef(stored.Hash, "blob"), ct).ConfigureAwait(false);
        await using var insert = new NpgsqlCommand(
            "INSERT INTO code (hash, content, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING", connection);
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stored.Hash });
        insert.Parameters.Add(new NpgsqlParameter { Value = blob, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
        insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = blob.Length });
        insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = DateTimeOffset.UtcNow.UtcTicks });
        await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return stored;
    }

    /// <summary>The cached path only: a package this daemon did not receive is fetched by <see cref="EnsureLocalAsync"/>
    /// first (a synchronous database read here could block the thread the socket engine runs continuations on).</summary>
    public string? LocalPath(CodeRef code) => cache.LocalPath(code);

    public async ValueTask EnsureLocalAsync(CodeRef code, CancellationToken ct = default)
    {
        if (cache.LocalPath(code) is not null) return;
        // One download at a time: concurrent starts of a function new to this daemon wait for the first one's copy.
        await _materialising.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (cache.LocalPath(code) is null) await MaterialiseAsync(code, ct).ConfigureAwait(false);
        }
        finally
        {
            _materialising.Release();
        }
    }

    public async Task<Stream> OpenPackageAsync(CodeRef code, CancellationToken ct = default)
    {
        await EnsureLocalAsync(code, ct).ConfigureAwait(false);
        return await cache.OpenPackageAsync(code, ct).ConfigureAwait(false);
    }

    public string? CompiledPath(CodeRef code) => cache.CompiledPath(code);

    public bool ContainsHandler(string codeHash, string? codeFileName, string handler) =>
        cache.ContainsHandler(codeHash, codeFileName, handler);

    public void MarkExecutable(string codeHash, string? codeFileName, string handler) =>
        cache.MarkExecutable(codeHash, codeFileName, handler);

    /// <summary>Copies the package from the database into the cache (unpacking a zip unless the reference is to a single
    /// file); nothing when the database does not hold it (the caller then finds no local path).</summary>
    private async Task MaterialiseAsync(CodeRef code, CancellationToken ct)
    {
        if (code.Hash.Length != 64 || !code.Hash.All(char.IsAsciiHexDigitLower)) return;
        await using var connection = (NpgsqlConnection)await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT content FROM code WHERE hash = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = code.Hash });
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return;
        await using var content = await reader.GetStreamAsync(0, ct).ConfigureAwait(false);
        var stored = await cache.SaveAsync(content, unpackZip: !code.IsSingleFile, ct).ConfigureAwait(false);
        if (stored.Hash != code.Hash) throw new InvalidDataException($"code package '{code.Hash}' in the database has the hash {stored.Hash}");
    }
}
