namespace Tern.Drivers.Cgroups;

/// <summary>A mounted cgroup hierarchy (v1 controllers or the unified v2 tree) Tern can create worker cgroups in.</summary>
public interface ICgroupHierarchy
{
    string Description { get; }
    IWorkerCgroup Create(string workerId, CgroupLimits limits);

    /// <summary>Removes worker cgroups left empty under this hierarchy's parent (by this daemon, killed before it could
    /// clean up). Each daemon has a parent of its own: a cgroup another daemon has just created is empty until its
    /// launcher joins it, so sweeping a shared parent could remove it in that window.</summary>
    void RemoveEmptyWorkerCgroups();

    /// <summary>Removes the empty worker cgroups and then the parent itself (a clean shutdown). A parent that still
    /// holds a live worker stays, for the next start's sweep.</summary>
    void RemoveParent();
}
