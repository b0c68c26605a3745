using System.Globalization;
using System.Runtime.InteropServices;
using Tern.Agent.Protocol;
using Tern.Json;

namespace Tern.Agent;

/// <summary>Sets a microVM guest's wall clock to the host's when the host sends a Clock message (after every boot and
/// snapshot restore: a restored guest would otherwise go on from the moment its snapshot was taken). Only the guest's
/// init asks for it (TERN_AGENT_CLOCK=1); everywhere else the agent keeps no capability and refuses the message.
///
/// The agent drops root before it reads anything from the host, so it keeps exactly one capability, CAP_SYS_TIME,
/// across the drop, and only on the thread that calls <see cref="PrivilegeDrop"/> (the main thread, which also reads
/// the host's messages): capabilities are per thread, and PR_SET_KEEPCAPS is set on this thread alone, so every other
/// thread loses all of them in setresuid. The capability stays permitted but not effective except for the one
/// clock_settime call. Handler processes never get it: a non-root process that execs a file without file capabilities
/// starts with empty permitted and effective sets whatever its parent held.</summary>
internal static unsafe class GuestClock
{
    private const int PR_SET_KEEPCAPS = 8;
    private const uint CapabilityVersion3 = 0x20080522;
    private const uint CapSysTime = 1u << 25; // CAP_SYS_TIME, in the first 32-bit word
    private const int ClockRealtime = 0;

    private static int _keeperThread; // kernel thread id of the thread that holds CAP_SYS_TIME; 0: none

    /// <summary>Whether the guest's init asked this agent to keep the clock.</summary>
    public static bool Requested => Environment.GetEnvironmentVariable("TERN_AGENT_CLOCK") == "1";

    /// <summary>Before the uid change: keep this thread's permitted capabilities through it.</summary>
    public static bool PrepareToKeep(out string? error) =>
        Check(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl(KEEPCAPS)", out error);

    /// <summary>After the uid change: of everything this thread kept, only CAP_SYS_TIME stays (permitted, not effective).</summary>
    public static bool KeepOnlyClock(out string? error)
    {
        if (!SetCapabilities(effective: 0, out error)) return false;
        if (!Check(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), "prctl(KEEPCAPS off)", out error)) return false;
        _keeperThread = gettid();
        return true;
    }

    /// <summary>Steps CLOCK_REALTIME to the host's time; the answer's output says by how much the clock moved
    /// (stepMs: positive when the guest was behind). CLOCK_MONOTONIC, which the agent's timers use, is not touched.</summary>
    public static RespMessage Set(ClockMessage message)
    {
        if (_keeperThread == 0)
            return Failed(message, "ClockNotKept", "this agent was not started to keep the clock (only a microVM guest's is)");
        if (gettid() != _keeperThread)
            return Failed(message, "ClockNotKept", "the clock can only be set from the agent's main thread");
        var target = new Timespec { Seconds = message.UnixTimeNs / 1_000_000_000, Nanoseconds = message.UnixTimeNs % 1_000_000_000 };
        var before = DateTimeOffset.UtcNow;
        if (!SetCapabilities(CapSysTime, out var error)) return Failed(message, "ClockNotSet", error!);
        var result = clock_settime(ClockRealtime, &target);
        var errno = Marshal.GetLastPInvokeError();
        if (!SetCapabilities(0, out error)) return Failed(message, "ClockNotSet", error!);
        if (result != 0) return Failed(message, "ClockNotSet", $"clock_settime failed: errno {errno}");
        var stepMs = (message.UnixTimeNs / 1e6) - (before - DateTimeOffset.UnixEpoch).TotalMilliseconds;
        return new RespMessage
        {
            RequestId = message.RequestId,
            Output = RawJson.Parse("{\"stepMs\":" + stepMs.ToString("0.###", CultureInfo.InvariantCulture) + "}"),
        };
    }

    private static bool SetCapabilities(uint effective, out string? error)
    {
        var header = new CapHeader { Version = CapabilityVersion3, Pid = 0 }; // 0: the calling thread
        var data = stackalloc CapData[2];
        data[0] = new CapData { Effective = effective, Permitted = CapSysTime, Inheritable = 0 };
        data[1] = default;
        return Check(capset(&header, data), "capset", out error);
    }

    private static RespMessage Failed(ClockMessage message, string code, string text) =>
        new() { RequestId = message.RequestId, Status = "error", Error = new AgentError { Code = code, Message = text } };

    private static bool Check(int result, string call, out string? error)
    {
        error = result == 0 ? null : $"{call} failed: errno {Marshal.GetLastPInvokeError()}";
        return result == 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", SetLastError = true)] private static extern int prctl(int option, ulong a2, ulong a3, ulong a4, ulong a5);
    [DllImport("libc", SetLastError = true)] private static extern int capset(CapHeader* header, CapData* data);
    [DllImport("libc", SetLastError = true)] private static extern int clock_settime(int clock, Timespec* time);
    [DllImport("libc")] private static extern int gettid();
}
