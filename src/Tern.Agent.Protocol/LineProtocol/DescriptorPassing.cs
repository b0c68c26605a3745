using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Tern.Agent.Protocol.LineProtocol;

/// <summary>Passes open file descriptors between processes over a Unix stream socket (SCM_RIGHTS), with one byte of
/// payload for them to ride on. Linux, 64-bit (the msghdr and cmsghdr layouts below).</summary>
public static unsafe class DescriptorPassing
{
    private const int SolSocket = 1;
    private const int ScmRights = 1;
    private const int MsgCmsgCloexec = 0x40000000;
    private const int HeaderBytes = 16; // cmsghdr: size_t len, int level, int type

    /// <summary>Sends <paramref name="fds"/> (they stay open here: the caller closes its copies) on one byte of
    /// <paramref name="payload"/> (a peer that parses the stream, such as QEMU's QMP, wants one it can skip).</summary>
    public static void Send(Socket socket, ReadOnlySpan<int> fds, byte payload = (byte)'F')
    {
        var dataBytes = fds.Length * sizeof(int);
        var space = HeaderBytes + Align(dataBytes);
        var control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        *(ulong*)control = (ulong)(HeaderBytes + dataBytes);
        *(int*)(control + 8) = SolSocket;
        *(int*)(control + 12) = ScmRights;
        fds.CopyTo(new Span<int>(control + HeaderBytes, fds.Length));
        var iov = new IoVec { Base = &payload, Length = 1 };
        var header = new MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = (ulong)space };
        while (true)
        {
            var sent = sendmsg((int)socket.Handle, &header, 0);
            if (sent == 1) return;
            var errno = Marshal.GetLastPInvokeError();
            if (sent < 0 && errno == 4) continue; // EINTR
            throw new IOException($"sendmsg of {fds.Length} descriptors failed (errno {errno})");
        }
    }

    /// <summary>Receives up to <paramref name="max"/> descriptors sent with <see cref="Send"/>, blocking; they arrive
    /// close-on-exec. Empty when the peer closed without sending.</summary>
    public static int[] Receive(Socket socket, int max)
    {
        var space = HeaderBytes + Align(max * sizeof(int));
        var control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        byte payload = 0;
        var iov = new IoVec { Base = &payload, Length = 1 };
        var header = new MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = (ulong)space };
        long received;
        while ((received = recvmsg((int)socket.Handle, &header, MsgCmsgCloexec)) < 0 && Marshal.GetLastPInvokeError() == 4) { }
        if (received < 0) throw new IOException($"recvmsg failed (errno {Marshal.GetLastPInvokeError()})");
        if (received == 0 || header.ControlLen < HeaderBytes) return [];
        var length = (long)*(ulong*)control;
        if (*(int*)(control + 8) != SolSocket || *(int*)(control + 12) != ScmRights) return [];
        var count = (int)((length - HeaderBytes) / sizeof(int));
        var fds = new Span<int>(control + HeaderBytes, count);
        foreach (var extra in fds[Math.Min(count, max)..]) _ = close(extra); // more than asked for: not ours to keep
        return fds[..Math.Min(count, max)].ToArray();
    }

    private static int Align(int bytes) => (bytes + 7) & ~7;

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public byte* Base;
        public ulong Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLen;
        public IoVec* Iov;
        public ulong IovLen;
        public void* Control;
        public ulong ControlLen;
        public int Flags;
    }

    [DllImport("libc", SetLastError = true)] private static extern long sendmsg(int fd, MsgHdr* msg, int flags);
    [DllImport("libc", SetLastError = true)] private static extern long recvmsg(int fd, MsgHdr* msg, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
}
