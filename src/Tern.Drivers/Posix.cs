using System.Runtime.InteropServices;

namespace Tern.Drivers;

internal static class Posix
{
    public const int SIGKILL = 9;

    [DllImport("libc", SetLastError = true)]
    public static extern int kill(int pid, int sig);

    [DllImport("libc")]
    public static extern uint geteuid();

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    public static extern int chmod(string path, uint mode);

    [DllImport("libc", SetLastError = true)]
    public static extern int link(string oldPath, string newPath);

    public const int X_OK = 1;

    [DllImport("libc", SetLastError = true)]
    public static extern int access(string path, int mode);
}
