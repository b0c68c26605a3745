namespace Tern.Drivers.Sandbox.Seccomp;

/// <summary>What every sandboxed process (the agent, handlers and whatever they start) may not ask the kernel for.
/// Modelled on the deny side of Docker's/containerd's default profile: everything is allowed except calls that
/// reconfigure the machine, escape or re-create namespaces, inspect other processes, or expose large kernel attack
/// surface no handler needs. Refused calls fail with EPERM, so software sees an ordinary "not permitted" and carries on.
/// Numbers: x86_64 from asm/unistd_64.h, arm64 from asm-generic/unistd.h (calls added since 5.1 share one number).</summary>
internal static class SeccompProfile
{
    /// <summary>The CLONE_NEW* flags clone() accepts: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET.
    /// (CLONE_NEWTIME, 0x80, sits in clone()'s exit-signal byte and is only accepted by clone3 and unshare.)</summary>
    public const uint CloneNamespaceFlags = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

    /// <summary>unshare() also takes CLONE_NEWTIME (0x80). Its other flags (CLONE_FS, CLONE_FILES, CLONE_SYSVSEM) only
    /// stop sharing state with the caller's own threads and stay allowed.</summary>
    public const uint UnshareNamespaceFlags = CloneNamespaceFlags | 0x00000080;

    /// <summary>personality() values Docker allows: PER_LINUX, PER_LINUX32, UNAME26 with either, and the 0xffffffff
    /// query. Others (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC) would weaken ASLR or W^X for everything the caller execs.</summary>
    public static readonly IReadOnlyList<uint> AllowedPersonalities = [0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF];

    public static IReadOnlyList<SyscallRule> Rules { get; } =
    [
        // Namespaces: a new user namespace hands the caller every capability inside it, which is how most container
        // escapes reach kernel code that is otherwise root-only (netfilter, mounts, ...). Threads and fork use clone
        // without CLONE_NEW* flags and stay allowed. clone3 passes its flags in memory, which seccomp cannot read, so it
        // answers ENOSYS: glibc and Go then fall back to clone, where the flags are checked. setns is refused whatever
        // its arguments: nstype 0 joins any kind of namespace the descriptor names.
        new("unshare", 272, 97) { DenyWhenArg0HasBits = UnshareNamespaceFlags },
        new("setns", 308, 268),
        new("clone", 56, 220) { DenyWhenArg0HasBits = CloneNamespaceFlags },
        new("clone3", 435, 435) { Errno = SyscallRule.ENOSYS },

        // Mount tables: the sandbox's file system view is fixed by bubblewrap before the handler starts.
        new("mount", 165, 40),
        new("umount2", 166, 39),
        new("pivot_root", 155, 41),
        new("open_tree", 428, 428),
        new("open_tree_attr", 467, 467),
        new("move_mount", 429, 429),
        new("fsopen", 430, 430),
        new("fsconfig", 431, 431),
        new("fsmount", 432, 432),
        new("fspick", 433, 433),
        new("mount_setattr", 442, 442),

        // Other processes' memory and state: ptrace and friends would let one process in a worker take over another
        // (the agent, a long-lived persistent runtime), and kcmp leaks kernel object identity.
        new("ptrace", 101, 117),
        new("process_vm_readv", 310, 270),
        new("process_vm_writev", 311, 271),
        new("pidfd_getfd", 438, 438),
        new("kcmp", 312, 272),

        // Large kernel attack surface with a long CVE record that handlers never need: eBPF, perf events,
        // userfaultfd (the classic race-widening tool), io_uring (disabled by Docker, ChromeOS and Android for the same
        // reason; libuv and others fall back to threads), fanotify.
        new("bpf", 321, 280),
        new("perf_event_open", 298, 241),
        new("userfaultfd", 323, 282),
        new("io_uring_setup", 425, 425),
        new("io_uring_enter", 426, 426),
        new("io_uring_register", 427, 427),
        new("fanotify_init", 300, 262),

        // Kernel keyrings are not namespaced: keys are per host user, shared across sandboxes.
        new("add_key", 248, 217),
        new("request_key", 249, 218),
        new("keyctl", 250, 219),

        // Kernel modules, kexec and reboot: the machine itself.
        new("init_module", 175, 105),
        new("finit_module", 313, 273),
        new("delete_module", 176, 106),
        new("create_module", 174, -1),
        new("get_kernel_syms", 177, -1),
        new("query_module", 178, -1),
        new("kexec_load", 246, 104),
        new("kexec_file_load", 320, 294),
        new("reboot", 169, 142),

        // Host-wide settings and devices: the clock, swap, accounting, quotas, the kernel log, port I/O, terminals,
        // host and domain names (the worker's UTS namespace is bubblewrap's; a handler has no reason to rename it).
        new("settimeofday", 164, 170),
        new("clock_settime", 227, 112),
        new("clock_adjtime", 305, 266),
        new("adjtimex", 159, 171),
        new("swapon", 167, 224),
        new("swapoff", 168, 225),
        new("acct", 163, 89),
        new("quotactl", 179, 60),
        new("quotactl_fd", 443, 443),
        new("syslog", 103, 116),
        new("iopl", 172, -1),
        new("ioperm", 173, -1),
        new("vhangup", 153, 58),
        new("sethostname", 170, 161),
        new("setdomainname", 171, 162),

        // File handles bypass path permissions (the "shocker" container escape used open_by_handle_at).
        new("name_to_handle_at", 303, 264),
        new("open_by_handle_at", 304, 265),

        // Obsolete interfaces kept only for old binaries, each a past source of bugs.
        new("lookup_dcookie", 212, 18),
        new("nfsservctl", 180, 42),
        new("uselib", 134, -1),
        new("ustat", 136, -1),
        new("sysfs", 139, -1),
        new("_sysctl", 156, -1),

        // Execution domains: see AllowedPersonalities.
        new("personality", 135, 92) { AllowOnlyArg0 = AllowedPersonalities },
    ];
}
