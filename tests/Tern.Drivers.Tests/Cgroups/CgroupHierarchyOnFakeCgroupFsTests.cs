using Tern.Drivers.Cgroups;

namespace Tern.Drivers.Tests.Cgroups;

/// <summary>This machine mounts cgroup v1; the v2 path is checked on a fake cgroupfs made of plain files.</summary>
public sealed class CgroupHierarchyOnFakeCgroupFsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "tern-fake-cgroup-" + Guid.NewGuid().ToString("N"));

    public CgroupHierarchyOnFakeCgroupFsTests() => Directory.CreateDirectory(_root);

    [Fact]
    public void Detect_UnifiedWithMemoryController_PicksV2AndWritesLimits()
    {
        File.WriteAllText(Path.Combine(_root, "cgroup.controllers"), "cpuset cpu io memory pids\n");
        var hierarchy = CgroupHierarchy.Detect(_root, "tern", out var reason);
        Assert.NotNull(hierarchy);
        Assert.Null(reason);
        Assert.Contains("v2", hierarchy.Description);

        var cgroup = hierarchy.Create("w1", new CgroupLimits(MemoryMb: 300, Vcpus: 3, MaxPids: 64));
        var dir = Path.Combine(_root, "tern", "w1");
        Assert.Equal((300L * 1024 * 1024).ToString(), File.ReadAllText(Path.Combine(dir, "memory.max")));
        Assert.Equal("64", File.ReadAllText(Path.Combine(dir, "pids.max")));
        Assert.Equal("300000 100000", File.ReadAllText(Path.Combine(dir, "cpu.max")));
        Assert.Equal("+memory +pids +cpu", File.ReadAllText(Path.Combine(_root, "tern", "cgroup.subtree_control")));
        Assert.Equal([Path.Combine(dir, "cgroup.procs")], cgroup.ProcsFiles);

        Assert.False(cgroup.OutOfMemory());
        File.WriteAllText(Path.Combine(dir, "memory.events"), "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
        Assert.True(cgroup.OutOfMemory());
    }

    [Fact]
    public void V2_NestedDaemonParent_HandsTheControllersDownEveryLevel_AndRemoveParentLeavesTheSharedOne()
    {
        // cgroup v2 lets a child use a controller only if every ancestor enabled it in cgroup.subtree_control.
        File.WriteAllText(Path.Combine(_root, "cgroup.controllers"), "cpu memory pids\n");
        var hierarchy = CgroupHierarchy.Detect(_root, "tern/0123456789abcdef", out _)!;
        hierarchy.Create("w1", new CgroupLimits(MemoryMb: 128, Vcpus: 1, MaxPids: 32));
        foreach (var level in new[] { _root, Path.Combine(_root, "tern"), Path.Combine(_root, "tern", "0123456789abcdef") })
            Assert.Equal("+memory +pids +cpu", File.ReadAllText(Path.Combine(level, "cgroup.subtree_control")));
        Assert.True(File.Exists(Path.Combine(_root, "tern", "0123456789abcdef", "w1", "memory.max")));

        // A fake cgroupfs holds plain files, which a real one would not let rmdir see: empty the worker dir first.
        Directory.Delete(Path.Combine(_root, "tern", "0123456789abcdef", "w1"), recursive: true);
        File.Delete(Path.Combine(_root, "tern", "0123456789abcdef", "cgroup.subtree_control"));
        hierarchy.RemoveParent();
        Assert.False(Directory.Exists(Path.Combine(_root, "tern", "0123456789abcdef")));
        Assert.True(Directory.Exists(Path.Combine(_root, "tern")), "the parent shared by every daemon stays");
    }

    [Fact]
    public void Detect_V1Controllers_PicksV1AndWritesLimits()
    {
        foreach (var c in new[] { "memory", "pids", "cpu" })
        {
            Directory.CreateDirectory(Path.Combine(_root, c));
            File.WriteAllText(Path.Combine(_root, c, "cgroup.procs"), "");
        }
        var hierarchy = CgroupHierarchy.Detect(_root, "tern", out _)!;
        Assert.Contains("v1", hierarchy.Description);
        var cgroup = hierarchy.Create("w2", new CgroupLimits(128, 1, 256));
        Assert.Equal((128L * 1024 * 1024).ToString(), File.ReadAllText(Path.Combine(_root, "memory", "tern", "w2", "memory.limit_in_bytes")));
        Assert.Equal("100000", File.ReadAllText(Path.Combine(_root, "cpu", "tern", "w2", "cpu.cfs_quota_us")));
        Assert.Equal(3, cgroup.ProcsFiles.Count);
        File.WriteAllText(Path.Combine(_root, "memory", "tern", "w2", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        Assert.True(cgroup.OutOfMemory());
    }

    [Fact]
    public void Detect_NothingMounted_ReturnsNullWithReason()
    {
        Assert.Null(CgroupHierarchy.Detect(_root, "tern", out var reason));
        Assert.Contains("no usable cgroup hierarchy", reason);
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
