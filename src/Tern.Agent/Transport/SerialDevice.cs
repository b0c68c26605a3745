using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Tern.Agent.Transport;

/// <summary>The system calls a serial device needs that .NET does not offer: opening without becoming its controlling
/// terminal, terminal modes, and reads and writes on a descriptor that cannot seek.</summary>
internal static class SerialDevice
{
    private const int O_RDWR = 0x2;
    private const int O_NOCTTY = 0x100;
    private const int O_CLOEXEC = 0x80000;
    private const int SEEK_CUR = 1;
    private const int TCSANOW = 0;
    private const int EINTR = 4;

    /// <summary>Room for struct termios on any libc (60 bytes on glibc and musl); only libc reads or changes it.</summary>
    private const int TermiosBytes = 256;

    /// <summary>O_NOCTTY: an agent that is a session leader (PID 1 of a microVM) must not make the port its controlling
    /// terminal, or a hangup would signal it. O_CLOEXEC: handlers must not inherit the host's stream.</summary>
    public static SafeFileHandle OpenReadWrite(string path)
    {
        var fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) throw Failure("open", path);
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    public static bool IsSeekable(SafeFileHandle handle) => lseek(Fd(handle), 0, SEEK_CUR) >= 0;

    public static bool IsTerminal(SafeFileHandle handle) => isatty(Fd(handle)) == 1;

    /// <summary>cfmakeraw: no echo, no line editing, no CR/NL translation, no signals, 8-bit clean. TCSANOW, not
    /// TCSAFLUSH: bytes the host already sent are the first frame, not noise.</summary>
    public static void MakeRaw(SafeFileHandle handle, string path)
    {
        var termios = new byte[TermiosBytes];
        if (tcgetattr(Fd(handle), termios) != 0) throw Failure("tcgetattr", path);
        cfmakeraw(termios);
        if (tcsetattr(Fd(handle), TCSANOW, termios) != 0) throw Failure("tcsetattr", path);
    }

    /// <summary>One read(2): what is there, at least a byte unless the device reports its end (0). RandomAccess would
    /// do, but refuses a device that cannot seek.</summary>
    public static int Read(SafeFileHandle handle, Span<byte> buffer, string path)
    {
        while (true)
        {
            var count = read(Fd(handle), ref MemoryMarshal.GetReference(buffer), buffer.Length);
            if (count >= 0) return (int)count;
            if (Marshal.GetLastPInvokeError() != EINTR) throw Failure("read", path);
        }
    }

    /// <summary>write(2) until all of <paramref name="buffer"/> is written: a frame goes out whole.</summary>
    public static void Write(SafeFileHandle handle, ReadOnlySpan<byte> buffer, string path)
    {
        while (!buffer.IsEmpty)
        {
            var count = write(Fd(handle), in MemoryMarshal.GetReference(buffer), buffer.Length);
            if (count >= 0) buffer = buffer[(int)count..];
            else if (Marshal.GetLastPInvokeError() != EINTR) throw Failure("write", path);
        }
    }

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    private static IOException Failure(string call, string path)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    [DllImport("libc", SetLastError = true)] private static extern int open(string path, int flags);
    [DllImport("libc", SetLastError = true)] private static extern nint read(int fd, ref byte buffer, nint count);
    [DllImport("libc", SetLastError = true)] private static extern nint write(int fd, in byte buffer, nint count);
    [DllImport("libc", SetLastError = true)] private static extern long lseek(int fd, long offset, int whence);
    [DllImport("libc")] private static extern int isatty(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int tcgetattr(int fd, byte[] termios);
    [DllImport("libc")] private static extern void cfmakeraw(byte[] termios);
    [DllImport("libc", SetLastError = true)] private static extern int tcsetattr(int fd, int action, byte[] termios);
}
