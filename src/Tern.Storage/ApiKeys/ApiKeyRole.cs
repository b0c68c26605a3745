namespace Tern.Storage.ApiKeys;

/// <summary>What an API key may do. Each role includes every role below it (admin ⊃ deploy ⊃ invoke ⊃ read), so
/// "a key may not create a key with more rights than its own" is a comparison.
/// <para>Read: every GET (functions, executions, logs, metrics) except secret names and other keys. Invoke: read,
/// plus :invoke, :enqueue and dead-letter redrive. Deploy: invoke, plus creating, changing and deleting functions,
/// versions, aliases, schedules and secrets, and creating keys no stronger than itself. Admin: everything, including
/// global limits and every key.</para></summary>
public enum ApiKeyRole
{
    Read = 0,
    Invoke = 1,
    Deploy = 2,
    Admin = 3,
}

public static class ApiKeyRoles
{
    /// <summary>The lower-case name used in the API, the CLI and the database.</summary>
    public static string Name(this ApiKeyRole role) => role switch
    {
        ApiKeyRole.Read => "read",
        ApiKeyRole.Invoke => "invoke",
        ApiKeyRole.Deploy => "deploy",
        _ => "admin",
    };

    public static bool TryParse(string? value, out ApiKeyRole role)
    {
        role = ApiKeyRole.Read;
        switch (value?.Trim().ToLowerInvariant())
        {
            case "read": role = ApiKeyRole.Read; return true;
            case "invoke": role = ApiKeyRole.Invoke; return true;
            case "deploy": role = ApiKeyRole.Deploy; return true;
            case "admin": role = ApiKeyRole.Admin; return true;
            default: return false;
        }
    }

    public const string All = "read, invoke, deploy or admin";
}
