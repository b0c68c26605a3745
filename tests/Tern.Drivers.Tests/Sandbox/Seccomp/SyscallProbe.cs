namespace Tern.Drivers.Tests.Sandbox.Seccomp;

/// <summary>A Python handler that makes one raw system call (named in the event as "case") through ctypes and reports
/// its errno (0: it succeeded). Arguments are chosen so that, without the filter, even root gets success, ENOSYS (a
/// kernel built without the call) or an argument error (EFAULT, EINVAL, EBADF, ...) rather than EPERM, and so that
/// nothing changes outside the probe's own process and namespaces (kexec_load gets too many segments, so it never
/// unloads an image; swapon invalid flags; sethostname a negative length).</summary>
internal static class SyscallProbe
{
    private const int EPERM = 1, ENOSYS = 38;

    /// <summary>One case per refused call family member, with the errno the filter gives it.</summary>
    public static TheoryData<string, int> Refused() => new()
    {
        // Namespaces
        { "unshare_newuser", EPERM }, { "setns", EPERM }, { "clone_newns", EPERM }, { "clone3", ENOSYS },
        // Mount tables
        { "mount", EPERM }, { "umount2", EPERM }, { "pivot_root", EPERM }, { "open_tree", EPERM }, { "move_mount", EPERM },
        { "fsopen", EPERM }, { "mount_setattr", EPERM },
        // Other processes
        { "ptrace", EPERM }, { "process_vm_readv", EPERM }, { "kcmp", EPERM }, { "pidfd_getfd", EPERM },
        // Kernel attack surface
        { "bpf", EPERM }, { "perf_event_open", EPERM }, { "userfaultfd", EPERM }, { "io_uring_setup", EPERM },
        // Keyrings
        { "keyctl", EPERM }, { "add_key", EPERM }, { "request_key", EPERM },
        // Modules, kexec, reboot
        { "init_module", EPERM }, { "finit_module", EPERM }, { "delete_module", EPERM }, { "kexec_load", EPERM },
        { "kexec_file_load", EPERM }, { "reboot", EPERM },
        // Host-wide settings and devices
        { "clock_settime", EPERM }, { "adjtimex", EPERM }, { "swapon", EPERM }, { "swapoff", EPERM }, { "acct", EPERM },
        { "quotactl", EPERM }, { "syslog", EPERM }, { "iopl", EPERM }, { "ioperm", EPERM }, { "sethostname", EPERM },
        // File handles
        { "open_by_handle_at", EPERM }, { "name_to_handle_at", EPERM },
        // Execution domains and ABIs
        { "personality_aslr_off", EPERM }, { "x32_getpid", EPERM },
    };

    public const string Source = """
        import ctypes, json, os, sys
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long

        def sc(nr, *args):
            ctypes.set_errno(0)
            r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
            return 0 if r >= 0 else ctypes.get_errno()

        def clone_new_namespaces():
            # CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD: a fork into new namespaces (NEWNS is allowed inside a new userns).
            ctypes.set_errno(0)
            pid = libc.syscall(ctypes.c_long(56), ctypes.c_long(0x10000000 | 0x00020000 | 17), ctypes.c_long(0),
                               ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0))
            if pid == 0:
                os._exit(0)
            if pid > 0:
                os.waitpid(pid, 0)
                return 0
            return ctypes.get_errno()

        cases = {
            "mount": lambda: sc(165, None, None, None, 0, None),
            "umount2": lambda: sc(166, b"/", 0xFFFF),
            "open_tree": lambda: sc(428, -100, b"/", 0),
            "mount_setattr": lambda: sc(442, -1, None, 0, None, 0),
            "ptrace": lambda: sc(101, 0x7FFF, 0, 0, 0),
            "process_vm_readv": lambda: sc(310, os.getpid(), None, 0, None, 0, 0),
            "kcmp": lambda: sc(312, os.getpid(), os.getpid(), 0, 0, 0),
            "pidfd_getfd": lambda: sc(438, -1, 0, 0),
            "bpf": lambda: sc(321, 0x7FFF, None, 0),
            "perf_event_open": lambda: sc(298, None, 0, -1, -1, 0),
            "userfaultfd": lambda: sc(323, 1),
            "io_uring_setup": lambda: sc(425, 0, None),
            "keyctl": lambda: sc(250, 0, -3, 0),
            "add_key": lambda: sc(248, None, None, None, 0, 0),
            "request_key": lambda: sc(249, None, None, None, 0),
            "unshare_newuser": lambda: sc(272, 0x10000000),
            "setns": lambda: sc(308, -1, 0),
            "clone_newns": clone_new_namespaces,
            "clone3": lambda: sc(435, None, 0),
            "init_module": lambda: sc(175, None, 0, None),
            "finit_module": lambda: sc(313, -1, None, 0),
            "delete_module": lambda: sc(176, None, 0),
            "kexec_load": lambda: sc(246, 0, 17, None, 0),  # 17 segments: over KEXEC_SEGMENT_MAX, never unloads an image
            "kexec_file_load": lambda: sc(320, -1, -1, 0, None, 0),
            "reboot": lambda: sc(169, 0, 0, 0, None),
            "pivot_root": lambda: sc(155, None, None),
            "fsopen": lambda: sc(430, None, 0),
            "move_mount": lambda: sc(429, -1, None, -1, None, 0xFFFFFFFF),
            "swapon": lambda: sc(167, None, 0xFFFFFFFF),
            "swapoff": lambda: sc(168, None),
            "acct": lambda: sc(163, 1),
            "iopl": lambda: sc(172, 0),
            "ioperm": lambda: sc(173, 0, 0, 0),
            "syslog": lambda: sc(103, 10, None, 0),  # SYSLOG_ACTION_SIZE_BUFFER
            "sethostname": lambda: sc(170, b"x", -1),
            "clock_settime": lambda: sc(227, 0, None),
            "adjtimex": lambda: sc(159, None),
            "quotactl": lambda: sc(179, 0, None, 0, None),
            "open_by_handle_at": lambda: sc(304, -1, None, 0),
            "name_to_handle_at": lambda: sc(303, -1, None, None, None, 0),
            "personality_aslr_off": lambda: sc(135, 0x0040000),
            "x32_getpid": lambda: sc(0x40000000 + 39),
        }
        case = json.load(open(sys.argv[1]))["case"]
        print(json.dumps({"errno": cases[case]()}))
        """;
}
