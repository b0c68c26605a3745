using System.Security.Cryptography;
using System.Text;

namespace Tern.Drivers.Microvm.Images;

/// <summary>The guest's root file system as a list of host files and where they go, made before anything is copied so
/// its hash (paths, sizes, modification times) can say whether an image with the same content is built already.
/// Shared libraries are found with ldd and placed at their real paths; /bin, /lib and /lib64 are links into /usr as on
/// Debian's merged /usr.</summary>
internal sealed class RootfsPlan
{
    private readonly SortedDictionary<string, string> _files = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _links = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _texts = new(StringComparer.Ordinal);

    public static readonly string[] MountPoints = ["code", "tmp", "proc", "dev", "sys", "root"];

    public RootfsPlan()
    {
        _links["bin"] = "usr/bin";
        _links["lib"] = "usr/lib";
        _links["lib64"] = "usr/lib64";
        _links["sbin"] = "usr/sbin";
        _texts["etc/passwd"] = $"root:x:0:0:root:/root:/bin/sh\nnobody:x:{GuestInit.GuestUid}:{GuestInit.GuestUid}:nobody:/nonexistent:/usr/sbin/nologin\n";
        _texts["etc/group"] = $"root:x:0:\nnogroup:x:{GuestInit.GuestUid}:\n";
        _texts["etc/hosts"] = "127.0.0.1 localhost\n::1 localhost\n";
    }

    public int FileCount => _files.Count;

    /// <summary>Adds one file at <paramref name="guestPath"/> (relative to /).</summary>
    public void AddFile(string hostPath, string guestPath) => _files[guestPath.TrimStart('/')] = hostPath;

    /// <summary>Adds a host file at the same place in the guest, with the links that lead to it.</summary>
    public void AddHostFile(string hostPath)
    {
        var real = Path.GetFullPath(new FileInfo(hostPath).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? hostPath);
        var placed = Path.Combine(RealDirectory(hostPath), Path.GetFileName(hostPath));
        if (placed != real) _links[placed.TrimStart('/')] = Path.GetRelativePath(Path.GetDirectoryName(placed)!, real);
        _files[real.TrimStart('/')] = real;
    }

    /// <summary>A directory tree; symbolic links inside it stay links, <paramref name="skip"/> names top-level entries left out.</summary>
    public void AddTree(string hostDir, string guestDir, IReadOnlySet<string>? skip = null)
    {
        foreach (var entry in new DirectoryInfo(hostDir).EnumerateFileSystemInfos("*", SearchOption.TopDirectoryOnly))
        {
            if (skip?.Contains(entry.Name) == true) continue;
            var guest = Path.Combine(guestDir, entry.Name);
            if (entry.LinkTarget is { } target) _links[guest.TrimStart('/')] = target;
            else if (entry is DirectoryInfo dir) AddTree(dir.FullName, guest);
            else _files[guest.TrimStart('/')] = entry.FullName;
        }
    }

    /// <summary>The shared libraries the ELF files need (ldd), placed where the dynamic loader looks for them.</summary>
    public async Task AddLibrariesOfAsync(IEnumerable<string> elfFiles, CancellationToken ct)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var elf in elfFiles)
        {
            var result = await HostCommand.RunAsync("ldd", [elf], ct: ct).ConfigureAwait(false);
            if (result.ExitCode != 0) continue; // "not a dynamic executable": nothing to add
            foreach (var line in result.Stdout.Split('\n'))
            {
                var path = LibraryPath(line);
                if (path is not null && seen.Add(path)) AddHostFile(path);
            }
        }
    }

    /// <summary>"libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)".</summary>
    private static string? LibraryPath(string line)
    {
        var text = line.Trim();
        var arrow = text.IndexOf("=> ", StringComparison.Ordinal);
        if (arrow >= 0) text = text[(arrow + 3)..];
        var paren = text.IndexOf(" (", StringComparison.Ordinal);
        if (paren >= 0) text = text[..paren];
        return text.StartsWith('/') && File.Exists(text) ? text : null;
    }

    /// <summary>The directory with its links resolved (/lib/x86_64-linux-gnu is /usr/lib/x86_64-linux-gnu on merged /usr).</summary>
    private static string RealDirectory(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var parts = dir.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var real = "/";
        foreach (var part in parts)
        {
            var next = Path.Combine(real, part);
            var target = new DirectoryInfo(next).ResolveLinkTarget(returnFinalTarget: true);
            real = target is null ? next : Path.GetFullPath(target.FullName);
        }
        return real;
    }

    /// <summary>SHA-256 over every entry: where it goes, what it is, and for a host file its size and modification time.</summary>
    public string Hash(IEnumerable<string> extra)
    {
        var text = new StringBuilder();
        foreach (var e in extra) text.Append("x ").Append(e).Append('\n');
        foreach (var (guest, target) in _links) text.Append("l ").Append(guest).Append(' ').Append(target).Append('\n');
        foreach (var (guest, content) in _texts) text.Append("t ").Append(guest).Append(' ').Append(content).Append('\n');
        foreach (var (guest, host) in _files)
        {
            var info = new FileInfo(host);
            text.Append("f ").Append(guest).Append(' ').Append(info.Length).Append(' ').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Copies everything into <paramref name="stagingDir"/> (hard links would share inodes with the host's
    /// files, which mkfs does not care about, but a copy keeps the staging tree independent of later host upgrades).</summary>
    public long Stage(string stagingDir)
    {
        long bytes = 0;
        foreach (var mount in MountPoints) Directory.CreateDirectory(Path.Combine(stagingDir, mount));
        foreach (var (guest, host) in _files)
        {
            var dest = Path.Combine(stagingDir, guest);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(host, dest, overwrite: true);
            bytes += new FileInfo(dest).Length;
        }
        foreach (var (guest, content) in _texts)
        {
            var dest = Path.Combine(stagingDir, guest);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.WriteAllText(dest, content);
        }
        foreach (var (guest, target) in _links)
        {
            var dest = Path.Combine(stagingDir, guest);
            if (File.Exists(dest) || Directory.Exists(dest)) continue; // a real file won
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.CreateSymbolicLink(dest, target);
        }
        return bytes;
    }
}
