using System.Globalization;
using System.Runtime.InteropServices;

namespace Tern.Drivers.Sandbox;

/// <summary>Descriptors the daemon inherited from whoever started it without close-on-exec (a `flock FILE tern daemon`
/// lock, a shell's pipe) would pass into every process it starts: every sandbox, and every pasta, which outlives its
/// starter and would hold such a lock for as long as it runs. .NET opens its own files close-on-exec; this marks the
/// inherited ones (everything above stderr) the same, once, when the driver starts.</summary>
internal static class InheritedDescriptors
{
    private const int F_GETFD = 1;
    private const int F_SETFD = 2;
    private const int FD_CLOEXEC = 1;

    public static void CloseOnExec()
    {
        string[] fds;
        try
        {
            fds = Directory.GetFiles("/proc/self/fd");
        }
        catch (IOException)
        {
            return;
        }
        foreach (var path in fds)
        {
            if (!int.TryParse(Path.GetFileName(path), NumberStyles.None, CultureInfo.InvariantCulture, out var fd) || fd <= 2) continue;
            var flags = fcntl(fd, F_GETFD, 0);
            if (flags >= 0 && (flags & FD_CLOEXEC) == 0) _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int cmd, int arg);
}
