namespace Tern.Drivers.Cgroups;

public sealed record CgroupLimits(int MemoryMb, int Vcpus, int MaxPids);
