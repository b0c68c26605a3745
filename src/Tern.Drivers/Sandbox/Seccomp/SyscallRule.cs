namespace Tern.Drivers.Sandbox.Seccomp;

/// <summary>A system call the sandbox filter refuses, by number on each architecture (-1: the call does not exist
/// there). Without a condition the call always fails with <see cref="Errno"/>; with one, only matching calls do.</summary>
internal sealed record SyscallRule(string Name, int X64, int Arm64)
{
    public const int EPERM = 1;
    public const int ENOSYS = 38;

    public int Errno { get; init; } = EPERM;

    /// <summary>Refuse only when the first argument has one of these bits set (clone's namespace flags).</summary>
    public uint? DenyWhenArg0HasBits { get; init; }

    /// <summary>Allow only these exact first-argument values (personality); anything else is refused.</summary>
    public IReadOnlyList<uint>? AllowOnlyArg0 { get; init; }

    public int Number(SeccompArch arch) => arch == SeccompArch.X64 ? X64 : Arm64;
}
