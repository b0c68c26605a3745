namespace Tern.Drivers.Cgroups;

/// <summary>A mounted cgroup hierarchy (v1 controllers or the unified v2 tree) Tern can create worker cgroups in.</summary>
public interface ICgroupHierarchy
{
    string Description { get; }
    IWorkerCgroup Create(string workerId, CgroupLimits limits);

    /// <summary>Removes worker cgroups left empty by a daemon that died. rmdir refuses a cgroup that still has
    /// processes, so another daemon's live workers are never touched.</summary>
    void RemoveEmptyWorkerCgroups();
}
