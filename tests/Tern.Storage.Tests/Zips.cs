using System.IO.Compression;
using System.Text;

namespace Tern.Storage.Tests;

/// <summary>Builds zip archives in memory, with control over each entry's Unix attributes.</summary>
internal static class Zips
{
    public const int RegularFile = 0x8000, Symlink = 0xA000;

    public sealed record Entry(string Name, string Content = "", int? UnixMode = null);

    public static byte[] Create(params Entry[] entries)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var e in entries)
            {
                var entry = zip.CreateEntry(e.Name);
                if (e.UnixMode is int mode) entry.ExternalAttributes = mode << 16;
                if (e.Name.EndsWith('/')) continue;
                using var s = entry.Open();
                s.Write(Encoding.UTF8.GetBytes(e.Content));
            }
        }
        return ms.ToArray();
    }

    public static byte[] Create(params (string Name, string Content)[] files) =>
        Create(files.Select(f => new Entry(f.Name, f.Content)).ToArray());

    /// <summary>Entries stored uncompressed, so their bytes appear in the archive as they are.</summary>
    public static byte[] CreateStored(params (string Name, string Content)[] files)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                s.Write(Encoding.UTF8.GetBytes(content));
            }
        }
        return ms.ToArray();
    }
}
