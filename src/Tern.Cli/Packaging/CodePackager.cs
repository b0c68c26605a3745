using System.IO.Compression;

namespace Tern.Cli.Packaging;

/// <summary>Turns the --code PATH into an upload: a directory is zipped in memory, a .zip is sent as is,
/// any other file is sent alone under its own name.</summary>
internal static class CodePackager
{
    /// <summary>Unix "regular file" type bits (S_IFREG), stored with the permissions in the zip's external attributes.</summary>
    private const int RegularFileType = 0x8000;

    /// <param name="exclude">Full paths of files to leave out of a directory's zip (e.g. the tern.yaml inside it).</param>
    public static CodePackage Package(string path, IReadOnlyCollection<string>? exclude = null)
    {
        if (Directory.Exists(path)) return new CodePackage(ZipDirectory(path, exclude), null);
        if (!File.Exists(path)) throw new CliException($"code path '{path}' does not exist");

        var bytes = Read(path);
        return path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase)
            ? new CodePackage(bytes, null)
            : new CodePackage(bytes, Path.GetFileName(path));
    }

    /// <summary>Zips every file under <paramref name="directory"/> with paths relative to it and its Unix
    /// permissions kept, so executables (bootstrap binaries, scripts) stay executable on the server.</summary>
    public static byte[] ZipDirectory(string directory, IReadOnlyCollection<string>? exclude = null)
    {
        var root = Path.GetFullPath(directory);
        var files = EnumerateFiles(root).Where(f => exclude is null || !exclude.Contains(Path.GetFullPath(f)))
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new CliException($"code directory '{directory}' contains no files");

        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in files)
            {
                var entryName = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
                var entry = zip.CreateEntry(entryName, CompressionLevel.Optimal);
                entry.ExternalAttributes = (RegularFileType | (int)File.GetUnixFileMode(file)) << 16;
                entry.LastWriteTime = File.GetLastWriteTime(file);
                using var source = OpenRead(file);
                using var target = entry.Open();
                source.CopyTo(target);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>All files, dotfiles included (e.g. .env templates), except version-control metadata.</summary>
    private static IEnumerable<string> EnumerateFiles(string root)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
        try
        {
            return Directory.EnumerateFiles(root, "*", options)
                .Where(f => !Path.GetRelativePath(root, f).Split(Path.DirectorySeparatorChar).Contains(".git"))
                .ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read code directory '{root}': {e.Message}");
        }
    }

    private static byte[] Read(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read code file '{path}': {e.Message}");
        }
    }

    private static FileStream OpenRead(string path)
    {
        try
        {
            return File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read code file '{path}': {e.Message}");
        }
    }
}
