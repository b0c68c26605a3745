using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Tern.Agent.Tests.Transport;

/// <summary>A pseudo-terminal: the slave (/dev/pts/N) is a real character device with a terminal line discipline, as a
/// UART is; the master is its other end, standing in for the hypervisor's side of a serial port.
/// <para>The test holds the slave open until the agent has opened it and made it raw (<see cref="SlaveIsRaw"/>): with
/// no slave open, reading the master fails (EIO), and bytes written before raw mode would be echoed back.</para></summary>
internal sealed class PtyPair : IDisposable
{
    private const int O_RDWR = 0x2;
    private const int O_NOCTTY = 0x100;
    private const int O_CLOEXEC = 0x80000;
    private const uint ICANON = 0x2;
    private const uint ECHO = 0x8;
    private const int LocalFlagsOffset = 12; // c_iflag, c_oflag, c_cflag, then c_lflag: 32-bit each on Linux

    private SafeFileHandle? _slave;

    private PtyPair(SafeFileHandle master, string slavePath, SafeFileHandle slave)
    {
        Master = master;
        SlavePath = slavePath;
        _slave = slave;
    }

    public SafeFileHandle Master { get; }
    public string SlavePath { get; }

    public static PtyPair Open()
    {
        // O_CLOEXEC throughout: the agent must not inherit the master or the held slave.
        var master = new SafeFileHandle(Check(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), "open /dev/ptmx"), ownsHandle: true);
        var fd = (int)master.DangerousGetHandle();
        Check(grantpt(fd), "grantpt");
        Check(unlockpt(fd), "unlockpt");
        var name = new byte[128];
        if (ptsname_r(fd, name, (nuint)name.Length) != 0) throw new IOException("ptsname_r failed");
        var slavePath = System.Text.Encoding.ASCII.GetString(name, 0, Array.IndexOf(name, (byte)0));
        var slave = new SafeFileHandle(Check(open(slavePath, O_RDWR | O_NOCTTY | O_CLOEXEC), "open " + slavePath), ownsHandle: true);
        return new PtyPair(master, slavePath, slave);
    }

    /// <summary>Whether the terminal is out of canonical and echo mode (the settings belong to the terminal, so the
    /// test's descriptor sees what the agent set through its own).</summary>
    public bool SlaveIsRaw
    {
        get
        {
            var termios = new byte[256];
            Check(tcgetattr((int)_slave!.DangerousGetHandle(), termios), "tcgetattr");
            var localFlags = BitConverter.ToUInt32(termios, LocalFlagsOffset);
            return (localFlags & (ICANON | ECHO)) == 0;
        }
    }

    /// <summary>Lets go of the test's slave descriptor, so that the agent's exit hangs the terminal up.</summary>
    public void ReleaseSlave()
    {
        _slave?.Dispose();
        _slave = null;
    }

    public void Dispose()
    {
        ReleaseSlave();
        Master.Dispose();
    }

    private static int Check(int result, string what) =>
        result >= 0 ? result : throw new IOException($"{what}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    [DllImport("libc", SetLastError = true)] private static extern int open(string path, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int grantpt(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int unlockpt(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int ptsname_r(int fd, byte[] buffer, nuint length);
    [DllImport("libc", SetLastError = true)] private static extern int tcgetattr(int fd, byte[] termios);
}
