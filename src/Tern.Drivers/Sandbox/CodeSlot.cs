namespace Tern.Drivers.Sandbox;

/// <summary>Fills a template worker's /code directory from the host. Hard links cost one inode reference per file, so
/// taking on even a large package is fast; across file systems it falls back to copying.</summary>
internal static class CodeSlot
{
    public static void Fill(string slot, CodeMount code)
    {
        if (code.IsSingleFile)
        {
            LinkOrCopy(code.HostPath, Path.Combine(slot, code.FileName!));
            return;
        }
        foreach (var dir in Directory.EnumerateDirectories(code.HostPath, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(slot, Path.GetRelativePath(code.HostPath, dir));
            Directory.CreateDirectory(target);
            _ = Posix.chmod(target, 0b111_101_101);
        }
        foreach (var file in Directory.EnumerateFiles(code.HostPath, "*", SearchOption.AllDirectories))
            LinkOrCopy(file, Path.Combine(slot, Path.GetRelativePath(code.HostPath, file)));
    }

    /// <summary>The package's precompiled modules (flat files), if the daemon made any.</summary>
    public static void FillCompiled(string slot, CodeMount code)
    {
        if (code.CompiledPath is not { } compiled || !Directory.Exists(compiled)) return;
        foreach (var file in Directory.EnumerateFiles(compiled, "*.cwasm"))
            LinkOrCopy(file, Path.Combine(slot, Path.GetFileName(file)));
    }

    private static void LinkOrCopy(string source, string target)
    {
        if (Posix.link(source, target) != 0) File.Copy(source, target);
    }
}
