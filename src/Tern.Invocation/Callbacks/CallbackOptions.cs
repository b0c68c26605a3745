namespace Tern.Invocation.Callbacks;

public sealed class CallbackOptions
{
    public const string AllowVariable = "TERN_CALLBACK_ALLOW";

    /// <summary>Callback targets allowed although they are not public: host names, addresses or CIDR ranges
    /// (for example "hooks.internal,10.1.0.0/16"). Env TERN_CALLBACK_ALLOW, comma-separated. Empty by default.</summary>
    public List<string> Allow { get; set; } =
        [.. (Environment.GetEnvironmentVariable(AllowVariable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
