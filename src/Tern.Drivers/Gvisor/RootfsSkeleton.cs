namespace Tern.Drivers.Gvisor;

/// <summary>The read-only root every gVisor worker of this daemon shares: only mount points and the usual symlinks into
/// /usr, since every real file comes from a mount (OciBundle). runsc needs each mount point to exist, and never writes
/// to a read-only root, so one copy serves all workers at once.</summary>
internal static class RootfsSkeleton
{
    public static string Create(string dir)
    {
        Directory.CreateDirectory(dir);
        foreach (var mountPoint in OciBundle.MountPoints) Directory.CreateDirectory(Path.Combine(dir, mountPoint));
        var agent = Path.Combine(dir, OciBundle.AgentInGuest.TrimStart('/'));
        if (!File.Exists(agent)) File.WriteAllBytes(agent, []); // a single-file bind mount needs a file to mount over
        foreach (var (link, target) in new[] { ("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"), ("lib64", "usr/lib64") })
        {
            var path = Path.Combine(dir, link);
            if (!File.Exists(path) && !Directory.Exists(path)) File.CreateSymbolicLink(path, target);
        }
        foreach (var sub in OciBundle.MountPoints.Concat(["run", "opt", "opt/tern", ""]))
            _ = Posix.chmod(Path.Combine(dir, sub), 0b111_101_101);
        _ = Posix.chmod(Path.Combine(dir, "tmp"), 0b1_111_111_111); // 1777, as the tmpfs mounted over it
        return dir;
    }
}
