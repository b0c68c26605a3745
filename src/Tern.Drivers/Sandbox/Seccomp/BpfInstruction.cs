using System.Buffers.Binary;

namespace Tern.Drivers.Sandbox.Seccomp;

/// <summary>One classic BPF instruction as the kernel's struct sock_filter lays it out: u16 code, u8 jt, u8 jf, u32 k
/// (8 bytes, native byte order; every architecture Tern runs on is little-endian).</summary>
internal readonly record struct BpfInstruction(ushort Code, byte JumpIfTrue, byte JumpIfFalse, uint K)
{
    public const int Size = 8;

    // Opcode pieces from linux/filter.h and linux/bpf_common.h.
    private const ushort LoadWordAbsolute = 0x00 | 0x00 | 0x20; // BPF_LD | BPF_W | BPF_ABS
    private const ushort JumpAlways = 0x05 | 0x00;              // BPF_JMP | BPF_JA
    private const ushort JumpEqual = 0x05 | 0x10;               // BPF_JMP | BPF_JEQ | BPF_K
    private const ushort JumpGreaterOrEqual = 0x05 | 0x30;      // BPF_JMP | BPF_JGE | BPF_K
    private const ushort JumpAnyBitSet = 0x05 | 0x40;           // BPF_JMP | BPF_JSET | BPF_K
    private const ushort ReturnConstant = 0x06;                 // BPF_RET | BPF_K

    public static BpfInstruction Load(uint offset) => new(LoadWordAbsolute, 0, 0, offset);
    public static BpfInstruction Return(uint value) => new(ReturnConstant, 0, 0, value);
    public static BpfInstruction Jump(int skip) => new(JumpAlways, 0, 0, checked((uint)skip));
    public static BpfInstruction IfEqual(uint k, int skipIfTrue, int skipIfFalse) => new(JumpEqual, Skip(skipIfTrue), Skip(skipIfFalse), k);
    public static BpfInstruction IfAtLeast(uint k, int skipIfTrue, int skipIfFalse) => new(JumpGreaterOrEqual, Skip(skipIfTrue), Skip(skipIfFalse), k);
    public static BpfInstruction IfAnyBit(uint mask, int skipIfTrue, int skipIfFalse) => new(JumpAnyBitSet, Skip(skipIfTrue), Skip(skipIfFalse), mask);

    public bool IsReturn => Code == ReturnConstant;
    public bool IsJumpAlways => Code == JumpAlways;
    public bool IsConditionalJump => (Code & 0x07) == 0x05 && Code != JumpAlways;

    /// <summary>Conditional jumps hold their offsets in one byte; a longer one must go through <see cref="Jump"/>.</summary>
    private static byte Skip(int n) => n is >= 0 and <= byte.MaxValue
        ? (byte)n
        : throw new ArgumentOutOfRangeException(nameof(n), n, "a conditional BPF jump reaches at most 255 instructions");

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, Code);
        destination[2] = JumpIfTrue;
        destination[3] = JumpIfFalse;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], K);
    }

    public static BpfInstruction ReadFrom(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt16LittleEndian(source), source[2], source[3], BinaryPrimitives.ReadUInt32LittleEndian(source[4..]));
}
