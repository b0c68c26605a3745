using Tern.Drivers.Sandbox.Seccomp;

namespace Tern.Drivers.Tests.Sandbox.Seccomp;

/// <summary>The compiled program, run through a classic BPF interpreter: every rule decides exactly its call, on both
/// architectures, and everything else is allowed.</summary>
public sealed class SeccompFilterTests
{
    private static readonly byte[] Program = SeccompFilter.Default;
    private const uint X64 = (uint)SeccompArch.X64;
    private const uint Arm64 = (uint)SeccompArch.Arm64;
    private static readonly uint Eperm = SeccompFilter.Fail(SyscallRule.EPERM);

    public static TheoryData<string> RuleNames() => new(SeccompProfile.Rules.Select(r => r.Name));

    [Theory]
    [MemberData(nameof(RuleNames))]
    public void EveryRule_RefusesItsCall_OnEachArchitectureItExistsOn(string name)
    {
        var rule = SeccompProfile.Rules.Single(r => r.Name == name);
        foreach (var (arch, nr) in new[] { (X64, rule.X64), (Arm64, rule.Arm64) })
        {
            if (nr < 0) continue;
            // clone and personality are refused only for some arguments; an argument that is always refused:
            var arg0 = rule.DenyWhenArg0HasBits ?? (rule.AllowOnlyArg0 is null ? 0u : 0x0040000u);
            Assert.Equal(SeccompFilter.Fail(rule.Errno), ClassicBpfMachine.Run(Program, arch, nr, arg0));
        }
    }

    [Theory]
    [InlineData(0)]   // read
    [InlineData(1)]   // write
    [InlineData(39)]  // getpid
    [InlineData(57)]  // fork
    [InlineData(59)]  // execve
    [InlineData(61)]  // wait4
    [InlineData(105)] // setuid (the agent drops to the worker's uid under the filter)
    [InlineData(117)] // setresuid
    [InlineData(157)] // prctl
    [InlineData(202)] // futex
    [InlineData(231)] // exit_group
    [InlineData(317)] // seccomp
    [InlineData(334)] // rseq
    [InlineData(434)] // pidfd_open
    [InlineData(436)] // close_range
    [InlineData(446)] // landlock_restrict_self
    [InlineData(999)] // a number no kernel has yet
    public void OrdinaryCalls_AreAllowed_OnX64(int nr) =>
        Assert.Equal(SeccompFilter.Allow, ClassicBpfMachine.Run(Program, X64, nr));

    [Theory]
    [InlineData(63)]  // read
    [InlineData(64)]  // write
    [InlineData(172)] // getpid
    [InlineData(221)] // execve
    [InlineData(98)]  // futex
    public void OrdinaryCalls_AreAllowed_OnArm64(int nr) =>
        Assert.Equal(SeccompFilter.Allow, ClassicBpfMachine.Run(Program, Arm64, nr));

    [Fact]
    public void Clone_ForThreadsAndFork_IsAllowed_WithAnyNamespaceFlag_IsRefused()
    {
        const uint thread = 0x003D0F00; // what glibc's pthread_create passes
        const uint fork = 17;           // SIGCHLD
        Assert.Equal(SeccompFilter.Allow, ClassicBpfMachine.Run(Program, X64, 56, thread));
        Assert.Equal(SeccompFilter.Allow, ClassicBpfMachine.Run(Program, X64, 56, fork));
        Assert.Equal(SeccompFilter.Allow, ClassicBpfMachine.Run(Program, Arm64, 220, thread));
        foreach (var flag in new uint[] { 0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000 })
        {
            Assert.Equal(Eperm, ClassicBpfMachine.Run(Program, X64, 56, fork | flag));
            Assert.Equal(Eperm, ClassicBpfMachine.Run(Program, Arm64, 220, thread | flag));
        }
    }

    [Fact]
    public void Unshare_OfSharedThreadState_IsAllowed_OfAnyNamespace_IsRefused()
    {
        const uint files = 0x400, fs = 0x200, sysvsem = 0x40000;
        Assert.Equal(SeccompFilter.Allow, ClassicBpfMachine.Run(Program, X64, 272, files | fs | sysvsem));
        Assert.Equal(SeccompFilter.Allow, ClassicBpfMachine.Run(Program, Arm64, 97, fs));
        foreach (var flag in new uint[] { 0x80, 0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000 })
        {
            Assert.Equal(Eperm, ClassicBpfMachine.Run(Program, X64, 272, fs | flag));
            Assert.Equal(Eperm, ClassicBpfMachine.Run(Program, Arm64, 97, flag));
        }
    }

    [Fact]
    public void Clone3_FailsWithEnosys_SoLibcFallsBackToClone() =>
        Assert.Equal(SeccompFilter.Fail(SyscallRule.ENOSYS), ClassicBpfMachine.Run(Program, X64, 435));

    [Fact]
    public void Personality_QueryAndLinux_Allowed_AslrOff_Refused()
    {
        Assert.Equal(SeccompFilter.Allow, ClassicBpfMachine.Run(Program, X64, 135, 0xFFFFFFFF));
        Assert.Equal(SeccompFilter.Allow, ClassicBpfMachine.Run(Program, X64, 135, 0));
        Assert.Equal(Eperm, ClassicBpfMachine.Run(Program, X64, 135, 0x0040000)); // ADDR_NO_RANDOMIZE
        Assert.Equal(Eperm, ClassicBpfMachine.Run(Program, X64, 135, 0x0400000)); // READ_IMPLIES_EXEC
    }

    [Fact]
    public void X32Calls_AreRefused_EvenWhereTheX64NumberIsAllowed() =>
        Assert.Equal(Eperm, ClassicBpfMachine.Run(Program, X64, 0x4000_0000 + 39));

    [Theory]
    [InlineData(0x40000003u)] // AUDIT_ARCH_I386: int 0x80 from a 64-bit process
    [InlineData(0x40000028u)] // AUDIT_ARCH_ARM
    public void ForeignArchitectures_KillTheProcess(uint arch) =>
        Assert.Equal(SeccompFilter.KillProcess, ClassicBpfMachine.Run(Program, arch, 39));

    [Fact]
    public void Program_IsSmall_AndRebuildsToTheSameBytes()
    {
        Assert.Equal(0, Program.Length % 8);
        Assert.InRange(Program.Length / 8, 50, 400);
        Assert.Equal(Program, SeccompFilter.Build(SeccompProfile.Rules));
    }

    [Fact]
    public void Build_TwoRulesWithOneNumber_Throws() =>
        Assert.Throws<InvalidOperationException>(() => SeccompFilter.Build([new("a", 1, 1), new("b", 1, 2)]));
}
