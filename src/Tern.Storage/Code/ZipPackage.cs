using System.IO.Compression;
using Tern.Core.Functions;

namespace Tern.Storage.Code;

/// <summary>Checks and unpacks a zip code package. Entries that would land outside the package root
/// (absolute paths, "..", links) are refused, and so are archives that unpack to more than the limits.</summary>
public static class ZipPackage
{
    public const long MaxUnpackedBytes = 512L * 1024 * 1024;
    public const int MaxEntries = 20_000;
    private const int UnixFileTypeMask = 0xF000 << 16, UnixSymlink = 0xA000 << 16;

    public static bool IsZip(ReadOnlySpan<byte> content) =>
        content.Length >= 4 && content[0] == 'P' && content[1] == 'K' && content[2] == 3 && content[3] == 4;

    /// <summary>Checks and unpacks the zip file at <paramref name="zipPath"/>.</summary>
    public static void ExtractTo(string zipPath, string destination)
    {
        ZipArchive archive;
        try { archive = ZipFile.OpenRead(zipPath); }
        catch (InvalidDataException e) { throw new InvalidCodePackageException($"code is not a readable zip archive: {e.Message}"); }

        using (archive)
        {
            if (archive.Entries.Count > MaxEntries)
                throw new InvalidCodePackageException($"zip has {archive.Entries.Count} entries; at most {MaxEntries} allowed");
            long total = 0;
            var files = new HashSet<string>(StringComparer.Ordinal);
            var dirs = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in archive.Entries)
            {
                var name = entry.FullName.TrimEnd('/');
                if (name.Length == 0) continue;
                if (!FunctionValidator.IsSafeRelativePath(name))
                    throw new InvalidCodePackageException($"zip entry '{entry.FullName}' escapes the package root");
                if ((entry.ExternalAttributes & UnixFileTypeMask) == UnixSymlink)
                    throw new InvalidCodePackageException($"zip entry '{entry.FullName}' is a symbolic link; links are not allowed");
                // Duplicates and a file where a directory must go (or the reverse) cannot be unpacked faithfully.
                var isDir = entry.FullName.EndsWith('/');
                if (isDir ? files.Contains(name) : !files.Add(name) || dirs.Contains(name))
                    throw new InvalidCodePackageException($"zip entry '{entry.FullName}' is duplicated or clashes with a directory");
                if (isDir) dirs.Add(name);
                for (var slash = name.LastIndexOf('/'); slash > 0; slash = name.LastIndexOf('/', slash - 1))
                {
                    var parent = name[..slash];
                    if (files.Contains(parent))
                        throw new InvalidCodePackageException($"zip entry '{entry.FullName}' clashes with the file '{parent}'");
                    dirs.Add(parent);
                }
                total += entry.Length;
                if (total > MaxUnpackedBytes)
                    throw new InvalidCodePackageException($"zip unpacks to more than {MaxUnpackedBytes / (1024 * 1024)} MB");
            }

            foreach (var entry in archive.Entries)
            {
                var target = Path.Combine(destination, entry.FullName);
                if (entry.FullName.EndsWith('/'))
                {
                    Directory.CreateDirectory(target);
                    continue;
                }
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                try { ExtractChecked(entry, target); }
                catch (InvalidDataException e) { throw new InvalidCodePackageException($"zip entry '{entry.FullName}' is corrupt: {e.Message}"); }
                // Keep the executable bit the archive recorded; everything readable by the sandbox's unprivileged user.
                var executable = ((entry.ExternalAttributes >> 16) & 0b001_001_001) != 0;
                File.SetUnixFileMode(target, executable ? PackageModes.Executable : PackageModes.Readable);
            }
            foreach (var dir in Directory.EnumerateDirectories(destination, "*", SearchOption.AllDirectories).Prepend(destination))
                File.SetUnixFileMode(dir, PackageModes.Executable);
        }
    }

    /// <summary>Writes one entry, checking its CRC-32 against the archive's: a flipped byte (a stored entry has no other
    /// check) is a corrupt package, not altered code that runs.</summary>
    private static void ExtractChecked(ZipArchiveEntry entry, string target)
    {
        var crc = new System.IO.Hashing.Crc32();
        using (var source = entry.Open())
        using (var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write))
        {
            var buffer = new byte[81920];
            int n;
            while ((n = source.Read(buffer)) > 0)
            {
                crc.Append(buffer.AsSpan(0, n));
                file.Write(buffer, 0, n);
            }
        }
        if (crc.GetCurrentHashAsUInt32() != entry.Crc32)
            throw new InvalidDataException($"its CRC-32 does not match (expected {entry.Crc32:x8}, found {crc.GetCurrentHashAsUInt32():x8})");
    }
}
