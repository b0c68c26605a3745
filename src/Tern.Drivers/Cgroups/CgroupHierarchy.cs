namespace Tern.Drivers.Cgroups;

/// <summary>Finds which cgroup layout the machine mounts. A pure v2 host has memory in cgroup.controllers at the root;
/// a v1 or hybrid host (like these machines) has per-controller directories.</summary>
public static class CgroupHierarchy
{
    public static ICgroupHierarchy? Detect(string root, string parentName, out string? reason)
    {
        reason = null;
        var controllers = Path.Combine(root, "cgroup.controllers");
        if (File.Exists(controllers) && File.ReadAllText(controllers).Split(' ', '\n').Contains("memory"))
            return new CgroupV2Hierarchy(root, parentName);
        if (new[] { "memory", "pids", "cpu" }.All(c => File.Exists(Path.Combine(root, c, "cgroup.procs"))))
            return new CgroupV1Hierarchy(root, parentName);
        reason = $"no usable cgroup hierarchy under {root} (need memory, pids and cpu controllers)";
        return null;
    }

    /// <summary>The names of the daemon parents below the shared parent (16 hex digits each, see BubblewrapDriver.DaemonId),
    /// under either cgroup version. Other names there (worker cgroups of daemons from before per-daemon parents) are
    /// left alone.</summary>
    internal static IEnumerable<string> DaemonParents(string root, string sharedParent) =>
        new[] { root, Path.Combine(root, "memory"), Path.Combine(root, "pids"), Path.Combine(root, "cpu") }
            .Select(dir => Path.Combine(dir, sharedParent))
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateDirectories)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => name.Length == 16 && name.All(char.IsAsciiHexDigitLower))
            .Distinct();

    /// <summary>Kills every pid listed in the given cgroup.procs files until they stay empty.</summary>
    internal static async Task KillAllAsync(IEnumerable<string> procsFiles)
    {
        for (var round = 0; round < 100; round++)
        {
            var any = false;
            foreach (var file in procsFiles)
            {
                if (!File.Exists(file)) continue;
                foreach (var line in File.ReadAllLines(file))
                {
                    if (!int.TryParse(line, out var pid)) continue;
                    any = true;
                    _ = Posix.kill(pid, Posix.SIGKILL);
                }
            }
            if (!any) return;
            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    /// <summary>rmdir of a cgroup fails while the kernel still tears down its last tasks: retry briefly.</summary>
    internal static async Task RemoveDirAsync(string dir)
    {
        for (var attempt = 0; attempt < 50 && Directory.Exists(dir); attempt++)
        {
            try { Directory.Delete(dir); return; }
            catch (IOException) { await Task.Delay(20).ConfigureAwait(false); }
        }
    }

    /// <summary>Removes the dir's empty children, then the dir if that left it empty.</summary>
    internal static void RemoveEmptyDir(string dir)
    {
        RemoveEmptyChildren(dir);
        if (!Directory.Exists(dir)) return;
        try { Directory.Delete(dir); }
        catch (IOException) { } // a live worker, or another daemon's child under a shared path
        catch (UnauthorizedAccessException) { }
    }

    internal static void RemoveEmptyChildren(string parent)
    {
        if (!Directory.Exists(parent)) return;
        foreach (var dir in Directory.EnumerateDirectories(parent))
        {
            try { Directory.Delete(dir); }
            catch (IOException) { } // busy: a live worker
            catch (UnauthorizedAccessException) { }
        }
    }

    internal static void Write(string dir, string file, string value) => File.WriteAllText(Path.Combine(dir, file), value);

    /// <summary>A single-number control file; 0 when absent or unreadable.</summary>
    internal static long ReadLong(string file) =>
        File.Exists(file) && long.TryParse(File.ReadAllText(file).Trim(), out var v) ? v : 0;

    internal static long ReadCounter(string file, string key)
    {
        if (!File.Exists(file)) return 0;
        foreach (var line in File.ReadLines(file))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], out var v)) return v;
        }
        return 0;
    }
}
