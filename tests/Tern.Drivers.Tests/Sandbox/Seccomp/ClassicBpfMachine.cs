using System.Buffers.Binary;
using Tern.Drivers.Sandbox.Seccomp;

namespace Tern.Drivers.Tests.Sandbox.Seccomp;

/// <summary>Runs a seccomp program the way the kernel's classic BPF interpreter does, for the instructions the filter
/// uses, and with the kernel's own checks (every jump lands inside the program, every path ends in a return).</summary>
internal static class ClassicBpfMachine
{
    public static uint Run(byte[] program, uint arch, int nr, ulong arg0 = 0)
    {
        Span<byte> data = stackalloc byte[64]; // struct seccomp_data
        BinaryPrimitives.WriteInt32LittleEndian(data, nr);
        BinaryPrimitives.WriteUInt32LittleEndian(data[4..], arch);
        BinaryPrimitives.WriteUInt64LittleEndian(data[16..], arg0);

        var count = program.Length / BpfInstruction.Size;
        uint accumulator = 0;
        for (var pc = 0; pc < count; pc++)
        {
            var insn = BpfInstruction.ReadFrom(program.AsSpan(pc * BpfInstruction.Size));
            switch (insn.Code)
            {
                case 0x20: // BPF_LD | BPF_W | BPF_ABS
                    if (insn.K % 4 != 0 || insn.K + 4 > data.Length) throw new InvalidOperationException($"load outside seccomp_data at {pc}");
                    accumulator = BinaryPrimitives.ReadUInt32LittleEndian(data[(int)insn.K..]);
                    break;
                case 0x06: // BPF_RET | BPF_K
                    return insn.K;
                case 0x05: // BPF_JMP | BPF_JA
                    pc += (int)insn.K;
                    break;
                case 0x15: // BPF_JEQ
                    pc += accumulator == insn.K ? insn.JumpIfTrue : insn.JumpIfFalse;
                    break;
                case 0x35: // BPF_JGE
                    pc += accumulator >= insn.K ? insn.JumpIfTrue : insn.JumpIfFalse;
                    break;
                case 0x45: // BPF_JSET
                    pc += (accumulator & insn.K) != 0 ? insn.JumpIfTrue : insn.JumpIfFalse;
                    break;
                default:
                    throw new InvalidOperationException($"unexpected opcode 0x{insn.Code:x} at {pc}");
            }
            if (pc + 1 > count) throw new InvalidOperationException($"jump past the end of the program from {pc}");
        }
        throw new InvalidOperationException("the program fell off its end without returning");
    }
}
