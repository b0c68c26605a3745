namespace Tern.Drivers.Sandbox.Seccomp;

/// <summary>Compiles a deny list into the classic BPF program the kernel runs on every system call (what bubblewrap's
/// --seccomp reads from a file descriptor). Written by hand rather than with libseccomp, so the daemon needs no native
/// library: the program is a few hundred bytes, built once per daemon.
/// Shape: check the ABI (unknown ones kill the process), refuse x32 calls, then find the call number in a binary search
/// tree of the rules (about eight comparisons for any call, so allowed calls pay the same small cost whichever they are).</summary>
internal static class SeccompFilter
{
    // seccomp_data (linux/seccomp.h): int nr; u32 arch; u64 instruction_pointer; u64 args[6].
    private const uint NrOffset = 0;
    private const uint ArchOffset = 4;
    private const uint Arg0LowOffset = 16; // the low half of args[0] on little-endian machines

    // SECCOMP_RET_* (linux/seccomp.h).
    public const uint Allow = 0x7FFF_0000;
    public const uint KillProcess = 0x8000_0000;
    public static uint Fail(int errno) => 0x0005_0000 | (uint)errno;

    /// <summary>x86_64 system calls of the x32 ABI carry this bit. Tern runs no x32 code; refusing the whole ABI
    /// keeps a second numbering of every call out of reach of the rules below.</summary>
    public const uint X32SyscallBit = 0x4000_0000;

    /// <summary>Rules per leaf of the search tree, checked one after the other.</summary>
    private const int LeafRules = 3;

    private static readonly Lazy<byte[]> DefaultProgram = new(() => Build(SeccompProfile.Rules));

    /// <summary>The program for <see cref="SeccompProfile.Rules"/>, compiled once per process.</summary>
    public static byte[] Default => DefaultProgram.Value;

    public static byte[] Build(IReadOnlyList<SyscallRule> rules)
    {
        var x64 = new List<BpfInstruction> { BpfInstruction.Load(NrOffset) };
        x64.AddRange([BpfInstruction.IfAtLeast(X32SyscallBit, 0, 1), BpfInstruction.Return(Fail(SyscallRule.EPERM))]);
        x64.AddRange(Tree(Sorted(rules, SeccompArch.X64)));
        var arm64 = new List<BpfInstruction> { BpfInstruction.Load(NrOffset) };
        arm64.AddRange(Tree(Sorted(rules, SeccompArch.Arm64)));

        var program = new List<BpfInstruction>
        {
            BpfInstruction.Load(ArchOffset),
            BpfInstruction.IfEqual((uint)SeccompArch.X64, 0, 1),
            BpfInstruction.Jump(3), // to the x86_64 block, past the next three instructions
            BpfInstruction.IfEqual((uint)SeccompArch.Arm64, 0, 1),
            BpfInstruction.Jump(1 + x64.Count), // to the arm64 block, past the kill and the x86_64 block
            BpfInstruction.Return(KillProcess),
        };
        program.AddRange(x64);
        program.AddRange(arm64);
        if (program.Count > 4096) throw new InvalidOperationException("a seccomp program holds at most 4096 instructions (BPF_MAXINSNS)");

        var bytes = new byte[program.Count * BpfInstruction.Size];
        for (var i = 0; i < program.Count; i++) program[i].WriteTo(bytes.AsSpan(i * BpfInstruction.Size));
        return bytes;
    }

    private static List<(uint Nr, SyscallRule Rule)> Sorted(IReadOnlyList<SyscallRule> rules, SeccompArch arch)
    {
        var sorted = rules.Where(r => r.Number(arch) >= 0).Select(r => (Nr: (uint)r.Number(arch), Rule: r)).OrderBy(r => r.Nr).ToList();
        for (var i = 1; i < sorted.Count; i++)
            if (sorted[i].Nr == sorted[i - 1].Nr)
                throw new InvalidOperationException($"{sorted[i].Rule.Name} and {sorted[i - 1].Rule.Name} share number {sorted[i].Nr} on {arch}");
        return sorted;
    }

    /// <summary>Code that decides every call with the accumulator holding its number; it always ends in a return.</summary>
    private static List<BpfInstruction> Tree(List<(uint Nr, SyscallRule Rule)> rules)
    {
        if (rules.Count <= LeafRules)
        {
            var leaf = new List<BpfInstruction>();
            foreach (var (nr, rule) in rules)
            {
                var verdict = Verdict(rule);
                leaf.Add(BpfInstruction.IfEqual(nr, 0, verdict.Count));
                leaf.AddRange(verdict);
            }
            leaf.Add(BpfInstruction.Return(Allow));
            return leaf;
        }

        var mid = rules.Count / 2;
        var below = Tree(rules[..mid]);
        var from = Tree(rules[mid..]);
        var code = new List<BpfInstruction>();
        if (below.Count <= byte.MaxValue)
        {
            code.Add(BpfInstruction.IfAtLeast(rules[mid].Nr, below.Count, 0));
        }
        else
        {
            code.Add(BpfInstruction.IfAtLeast(rules[mid].Nr, 0, 1));
            code.Add(BpfInstruction.Jump(below.Count));
        }
        code.AddRange(below);
        code.AddRange(from);
        return code;
    }

    /// <summary>What happens once the call number matched a rule; always ends in a return.</summary>
    private static List<BpfInstruction> Verdict(SyscallRule rule)
    {
        var fail = BpfInstruction.Return(Fail(rule.Errno));
        if (rule.DenyWhenArg0HasBits is { } bits)
        {
            return
            [
                BpfInstruction.Load(Arg0LowOffset),
                BpfInstruction.IfAnyBit(bits, 0, 1),
                fail,
                BpfInstruction.Return(Allow),
            ];
        }
        if (rule.AllowOnlyArg0 is { } values)
        {
            var code = new List<BpfInstruction> { BpfInstruction.Load(Arg0LowOffset) };
            for (var i = 0; i < values.Count; i++) code.Add(BpfInstruction.IfEqual(values[i], values.Count - i, 0));
            code.Add(fail);
            code.Add(BpfInstruction.Return(Allow));
            return code;
        }
        return [fail];
    }
}
