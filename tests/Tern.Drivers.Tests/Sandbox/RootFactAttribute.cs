namespace Tern.Drivers.Tests.Sandbox;

/// <summary>A test that needs a root test process (to lease worker uids, to switch to other uids with setpriv, or to
/// run bubblewrap with every capability). It is skipped, saying so, only where the tests really do not run as root.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess) Skip = RootTheoryAttribute.Reason;
    }
}

/// <summary>The <see cref="RootFactAttribute"/> of theories.</summary>
public sealed class RootTheoryAttribute : TheoryAttribute
{
    internal const string Reason = "needs root: the test process is not running as root";

    public RootTheoryAttribute()
    {
        if (!Environment.IsPrivilegedProcess) Skip = Reason;
    }
}
