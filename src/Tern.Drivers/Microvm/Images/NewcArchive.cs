using System.IO.Compression;
using System.Text;

namespace Tern.Drivers.Microvm.Images;

/// <summary>Writes a gzip-compressed cpio archive in the "newc" format, the one the kernel unpacks as an initramfs
/// (Documentation/driver-api/early-userspace/buffer-format.rst): no cpio tool needed, and no root to own the files.</summary>
internal sealed class NewcArchive : IDisposable
{
    private const uint DirMode = 0x4000;
    private const uint FileMode = 0x8000;
    private const uint SymlinkMode = 0xA000;
    private readonly Stream _out;
    private uint _inode = 1;

    public NewcArchive(string path) =>
        _out = new GZipStream(System.IO.File.Create(path), CompressionLevel.Fastest);

    public void Directory(string name, uint permissions = 0b111_101_101) => Entry(name, DirMode | permissions, [], 2);

    public void File(string name, byte[] content, uint permissions = 0b110_100_100) => Entry(name, FileMode | permissions, content, 1);

    public void Symlink(string name, string target) => Entry(name, SymlinkMode | 0b111_111_111, Encoding.UTF8.GetBytes(target), 1);

    private void Entry(string name, uint mode, byte[] content, uint links)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        var header = string.Concat(
            "070701", Hex(_inode++), Hex(mode), Hex(0), Hex(0), Hex(links), Hex(0), Hex((uint)content.Length),
            Hex(0), Hex(0), Hex(0), Hex(0), Hex((uint)nameBytes.Length), Hex(0));
        _out.Write(Encoding.ASCII.GetBytes(header));
        _out.Write(nameBytes);
        Pad(110 + nameBytes.Length);
        _out.Write(content);
        Pad(content.Length);
    }

    private void Pad(int written)
    {
        var pad = (4 - written % 4) % 4;
        for (var i = 0; i < pad; i++) _out.WriteByte(0);
    }

    private static string Hex(uint value) => value.ToString("X8", System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose()
    {
        Entry("TRAILER!!!", 0, [], 1);
        _out.Dispose();
    }
}
