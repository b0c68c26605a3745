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

    public string? LocalPath(CodeRef code) => cache.LocalPath(code) ?? (Materialise(code) ? cache.LocalPath(code) : null);

    public async Task<Stream> OpenPackageAsync(CodeRef code, CancellationToken ct = default)
    {
        if (cache.LocalPath(code) is null) Materialise(code);
        return await cache.OpenPackageAsync(code, ct).ConfigureAwait(false);
    }

    public string? CompiledPath(CodeRef code) => cache.CompiledPath(code);

    public bool ContainsHandler(string codeHash, string? codeFileName, string handler)
    {
        LocalPath(new CodeRef(codeHash, codeFileName));
        return cache.ContainsHandler(codeHash, codeFileName, handler);
    }

    public void MarkExecutable(string codeHash, string? codeFileName, string handler)
    {
        LocalPath(new CodeRef(codeHash, codeFileName));
        cache.MarkExecutable(codeHash, codeFileName, handler);
    }

    /// <summary>Copies the package from the database into the cache (unpacking a zip unless the reference is to a single
    /// file); false when the database does not hold it. Synchronous: drivers ask for a path as a worker starts, and this
    /// happens once per package and daemon.</summary>
    private bool Materialise(CodeRef code)
    {
        if (code.Hash.Length != 64 || !code.Hash.All(char.IsAsciiHexDigitLower)) return false;
        using var connection = database.OpenBlockingConnection();
        using var command = new NpgsqlCommand("SELECT content FROM code WHERE hash = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = code.Hash });
        using var reader = command.ExecuteReader(CommandBehavior.SequentialAccess);
        if (!reader.Read()) return false;
        using var content = reader.GetStream(0);
        var stored = cache.SaveAsync(content, unpackZip: !code.IsSingleFile).GetAwaiter().GetResult();
        if (stored.Hash != code.Hash) throw new InvalidDataException($"code package '{code.Hash}' in the database has the hash {stored.Hash}");
        return true;
    }
}
