using System.Runtime.InteropServices;

namespace Tern.Agent;

/// <summary>Becomes the unprivileged user named by TERN_AGENT_UID/TERN_AGENT_GID before any user code runs.
/// The sandbox is built by root (bubblewrap needs it for the mounts); the handler must not stay root.</summary>
internal static class PrivilegeDrop
{
    private const int PR_SET_NO_NEW_PRIVS = 38;

    public static bool ApplyFromEnvironment(out string? error)
    {
        error = null;
        if (!uint.TryParse(Environment.GetEnvironmentVariable("TERN_AGENT_UID"), out var uid)) return true;
        var gid = uint.TryParse(Environment.GetEnvironmentVariable("TERN_AGENT_GID"), out var g) ? g : uid;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Fail("prctl(NO_NEW_PRIVS)", out error);
        // A microVM guest's agent keeps CAP_SYS_TIME (and nothing else) to set the guest's clock from the host's.
        var keepClock = GuestClock.Requested && geteuid() == 0;
        if (keepClock && !GuestClock.PrepareToKeep(out error)) return false;
        if (geteuid() == 0 && setgroups(0, IntPtr.Zero) != 0) return Fail("setgroups", out error);
        if (setresgid(gid, gid, gid) != 0) return Fail("setresgid", out error);
        if (setresuid(uid, uid, uid) != 0) return Fail("setresuid", out error);
        return !keepClock || GuestClock.KeepOnlyClock(out error);
    }

    private static bool Fail(string call, out string error)
    {
        error = $"{call} failed: errno {Marshal.GetLastPInvokeError()}";
        return false;
    }

    [DllImport("libc", SetLastError = true)] private static extern int prctl(int option, ulong a2, ulong a3, ulong a4, ulong a5);
    [DllImport("libc", SetLastError = true)] private static extern int setgroups(nuint size, IntPtr list);
    [DllImport("libc", SetLastError = true)] private static extern int setresgid(uint r, uint e, uint s);
    [DllImport("libc", SetLastError = true)] private static extern int setresuid(uint r, uint e, uint s);
    [DllImport("libc")] private static extern uint geteuid();
}
