namespace Tern.Drivers.Sandbox.Seccomp;

/// <summary>The system call ABIs the filter knows, with their AUDIT_ARCH_* values (linux/audit.h) as seccomp reports
/// them in seccomp_data.arch. Any other ABI (i386 via int 0x80, AArch32) kills the process.</summary>
internal enum SeccompArch : uint
{
    X64 = 0xC000003E,   // AUDIT_ARCH_X86_64: EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
    Arm64 = 0xC00000B7, // AUDIT_ARCH_AARCH64: EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
}
