using Tern.Core.Settings;

namespace Tern.Invocation.Callbacks;

/// <summary>Where X-Callback-Url may point (section "callbacks").</summary>
public sealed class CallbackOptions
{
    public const string Section = "callbacks";
    public const string AllowVariable = "TERN_CALLBACK_ALLOW";

    [Setting("Callback targets allowed although they are not public: host names, addresses or CIDR ranges (e.g. hooks.internal,10.1.0.0/16)",
        Environment = AllowVariable)]
    public List<string> Allow { get; set; } = [];
}
