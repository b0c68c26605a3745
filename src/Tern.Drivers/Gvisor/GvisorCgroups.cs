using Tern.Drivers.Cgroups;

namespace Tern.Drivers.Gvisor;

/// <summary>Where gVisor workers' cgroups live: in a parent of this daemon's own beside the sandbox driver's
/// ({cgroupParent}/gvisor-{daemon id}), so neither driver's sweep removes a cgroup the other has just made. Tern makes each
/// worker's memory, pids and cpu cgroups (limits, OOM detection, removal: as for the sandbox); runsc joins them and
/// adds the other v1 controllers (blkio, cpuset, devices, ...) itself, removing those when the container goes. A daemon
/// killed before it could clean up leaves empty directories in every controller: the next start sweeps its own, and
/// those of dead daemons whose owner lock is free.</summary>
internal sealed class GvisorCgroups : IDisposable
{
    private const string Prefix = "gvisor-";
    private readonly string _root;
    private readonly string _sharedParent;
    private readonly string _ownersDir;
    private readonly CgroupOwnerLock? _ownerLock;

    private GvisorCgroups(ICgroupHierarchy hierarchy, string root, string sharedParent, string ownersDir, string daemonId)
    {
        Hierarchy = hierarchy;
        _root = root;
        _sharedParent = sharedParent;
        _ownersDir = ownersDir;
        Parent = sharedParent + "/" + Prefix + daemonId;
        // Taken before this daemon's parent exists, so no other daemon ever sees the parent without its lock.
        _ownerLock = CgroupOwnerLock.Take(ownersDir, Prefix + daemonId);
        foreach (var dir in ControllerDirs(Parent)) CgroupHierarchy.RemoveEmptyChildren(dir);
        RemoveDeadDaemons(daemonId);
    }

    public ICgroupHierarchy Hierarchy { get; }

    /// <summary>This daemon's gVisor parent, relative to each hierarchy's root (as OCI's cgroupsPath wants it).</summary>
    public string Parent { get; }

    public static GvisorCgroups Open(string root, string sharedParent, string ownersDir, string daemonId)
    {
        var parent = sharedParent + "/" + Prefix + daemonId;
        var hierarchy = CgroupHierarchy.Detect(root, parent, out var reason)
            ?? throw new WorkerStartException($"gvisor cannot enforce limits: {reason}");
        return new GvisorCgroups(hierarchy, root, sharedParent, ownersDir, daemonId);
    }

    public void Dispose()
    {
        Hierarchy.RemoveParent();
        foreach (var dir in ControllerDirs(Parent)) CgroupHierarchy.RemoveEmptyDir(dir);
        _ownerLock?.Dispose();
    }

    /// <summary>The path under every mounted hierarchy: each v1 controller's directory, or the v2 root.</summary>
    private IEnumerable<string> ControllerDirs(string relative) =>
        Directory.EnumerateDirectories(_root).Append(_root)
            .Select(dir => Path.Combine(dir, relative))
            .Where(Directory.Exists)
            .ToList();

    private void RemoveDeadDaemons(string self)
    {
        var names = ControllerDirs(_sharedParent)
            .SelectMany(Directory.EnumerateDirectories)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => name.StartsWith(Prefix, StringComparison.Ordinal) && name != Prefix + self)
            .Distinct()
            .ToList();
        foreach (var name in names)
        {
            using var claim = CgroupOwnerLock.ClaimIfDead(_ownersDir, name);
            if (claim is null) continue;
            foreach (var dir in ControllerDirs(_sharedParent + "/" + name)) CgroupHierarchy.RemoveEmptyDir(dir);
        }
    }
}
