namespace Tern.Drivers.Cgroups;

/// <summary>A mounted cgroup hierarchy (v1 controllers or the unified v2 tree) Tern can create worker cgroups in.</summary>
public interface ICgroupHierarchy
{
    string Description { get; }
    IWorkerCgroup Create(string workerId, CgroupLimits limits);
}
