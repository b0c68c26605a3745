using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tern.Agent.Protocol;
using Tern.Core.Code;
using Tern.Drivers.Microvm;
using Tern.Drivers.Microvm.Images;
using Tern.Json;
using Xunit.Abstractions;

namespace Tern.Drivers.Tests.Microvm;

/// <summary>The microVM driver on its own with real QEMU (TCG here: /dev/kvm is absent or PVM), a guest image made by
/// the real builder and the real agent inside. A boot costs seconds of CPU: category "microvm" lets a quick local run
/// leave these out (--filter Category!=microvm); the default run includes them.</summary>
[Trait("Category", "microvm")]
public sealed class MicrovmDriverTests : IClassFixture<GuestImageFixture>, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tern-mvt-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly LocalCodeSource _code = new();
    private readonly GuestImageFixture _image;
    private readonly ITestOutputHelper _output;

    public MicrovmDriverTests(GuestImageFixture image, ITestOutputHelper output)
    {
        _image = image;
        _output = output;
        Directory.CreateDirectory(Path.Combine(_dir, "code"));
        File.WriteAllText(Path.Combine(_dir, "code", "main.py"), Handler);
    }

    /// <summary>Reports what the guest looks like from inside: its network interfaces, whether a host file is readable,
    /// its uid, PID 1 and whether /code and / are writable.</summary>
    private const string Handler = """
        import json, os, sys
        event = json.load(open(sys.argv[1]))
        marker = event.get("marker", "")
        try:
            open(marker).read()
            host_file = "read"
        except OSError as e:
            host_file = type(e).__name__
        def writable(path):
            try:
                open(os.path.join(path, "probe"), "w").write("x")
                return True
            except OSError:
                return False
        print(json.dumps({"interfaces": sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else
                          sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]),
                          "hostFile": host_file, "uid": os.getuid(), "pid1": open("/proc/1/comm").read().strip(),
                          "codeWritable": writable("/code"), "tmpWritable": writable("/tmp"), "kernel": os.uname().release}))
        """;

    private MicrovmDriver Driver(MicrovmOptions? options = null) =>
        new(Options.Create(options ?? new MicrovmOptions
        {
            ImagesDir = GuestImageFixture.SharedImagesDir, StateDir = Path.Combine(_dir, "m"), Accelerator = "auto",
        }), NullLogger<MicrovmDriver>.Instance, codeSource: _code);

    private WorkerSpec Spec(CodeRef? code = null) => new()
    {
        WorkerId = Guid.NewGuid().ToString("N"), FunctionName = "t", Runtime = "python",
        Code = code ?? _code.Add(Path.Combine(_dir, "code")), Limits = new WorkerLimits(MemoryMb: 128, Vcpus: 1),
    };

    private static async Task<JsonElement> InitAndExec(IWorker worker, string input = "{}")
    {
        await using var agent = new AgentClient(worker.Stream);
        var init = await agent.InitAsync(new InitMessage { Runtime = "python", Handler = "main.py", MemoryMb = 128, TimeoutMs = 60_000 },
            TimeSpan.FromSeconds(60), CancellationToken.None);
        Assert.True(init.Status == "success", init.Error?.Message);
        var resp = await agent.ExecAsync(new ExecMessage { RequestId = "1", Input = RawJson.Parse(input), TimeoutMs = 60_000 },
            TimeSpan.FromSeconds(60), CancellationToken.None);
        Assert.True(resp.Status == "success", resp.Error?.Message + " " + resp.StderrTail);
        return resp.Output!.Value.ToElement().Clone();
    }

    [Fact]
    public async Task Guest_RunsTheHandler_WithNoNetworkNoHostFilesAndReadOnlyCode()
    {
        var marker = Path.Combine(Path.GetTempPath(), "tern-mv-marker-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(marker, "host secret");
        var driver = Driver(new MicrovmOptions
        {
            ImagesDir = GuestImageFixture.SharedImagesDir, StateDir = Path.Combine(_dir, "m"), Snapshots = false,
        });
        var worker = await driver.StartWorkerAsync(Spec(), CancellationToken.None);
        try
        {
            var output = await InitAndExec(worker, JsonSerializer.Serialize(new Dictionary<string, string> { ["marker"] = marker }));
            Assert.Equal(["lo"], output.GetProperty("interfaces").EnumerateArray().Select(e => e.GetString() ?? "").ToArray());
            Assert.Equal("FileNotFoundError", output.GetProperty("hostFile").GetString()); // the host's /tmp is not there at all
            Assert.Equal(65534, output.GetProperty("uid").GetInt32());
            Assert.Equal("tern-agent", output.GetProperty("pid1").GetString());
            Assert.False(output.GetProperty("codeWritable").GetBoolean());
            Assert.True(output.GetProperty("tmpWritable").GetBoolean());
            Assert.Contains("cloud-amd64", output.GetProperty("kernel").GetString()); // the guest's own kernel
            Assert.Equal("tcg", driver.Accelerator); // no usable KVM on this machine kind (docs/microvm.md)
        }
        finally
        {
            await worker.KillAsync();
            File.Delete(marker);
        }
        await worker.Exited.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(_dir, "m", "w")));
    }

    [Fact]
    public async Task SecondColdStart_RestoresTheSnapshot_FasterThanTheBoot_AndTheAgentRejoinsOverTheNewSocket()
    {
        var driver = Driver();
        var first = (MicrovmWorker)await driver.StartWorkerAsync(Spec(), CancellationToken.None);
        Assert.False(first.Restored);
        AssertQemuIsUnprivileged(first);
        // The snapshotted worker goes on serving after its state was saved.
        Assert.Equal(65534, (await InitAndExec(first)).GetProperty("uid").GetInt32());
        await first.KillAsync();
        var snapshot = Assert.Single(driver.List("t"));
        Assert.True(snapshot.Bytes > 1024 * 1024);
        Assert.Equal(_image.Image.Hash, GuestImage.Find(GuestImageFixture.SharedImagesDir, "python")?.Hash);

        var second = (MicrovmWorker)await driver.StartWorkerAsync(Spec(), CancellationToken.None);
        try
        {
            _output.WriteLine($"cold boot {first.StartSeconds:0.000} s, snapshot {snapshot.Bytes / 1048576} MB saved in {snapshot.SaveSeconds:0.000} s, restore {second.StartSeconds:0.000} s ({driver.Accelerator})");
            Assert.True(second.Restored);
            AssertQemuIsUnprivileged(second); // the restore was fed, and the snapshot saved, by a QEMU that is not root
            Assert.True(second.StartSeconds < first.StartSeconds,
                $"restore took {second.StartSeconds:0.000} s, the cold boot {first.StartSeconds:0.000} s");
            Assert.Equal(65534, (await InitAndExec(second)).GetProperty("uid").GetInt32());
        }
        finally
        {
            await second.KillAsync();
        }

        // New code is a new code drive: no snapshot fits, the VM boots, and its snapshot replaces the old one.
        var changed = Path.Combine(_dir, "code2");
        Directory.CreateDirectory(changed);
        File.WriteAllText(Path.Combine(changed, "main.py"), Handler + "\n# changed\n");
        var third = (MicrovmWorker)await driver.StartWorkerAsync(Spec(_code.Add(changed)), CancellationToken.None);
        await third.KillAsync();
        Assert.False(third.Restored);
        Assert.NotEqual(snapshot.Key, Assert.Single(driver.List("t")).Key);
        Assert.Equal(1, driver.Delete("t"));
        Assert.Empty(driver.List("t"));
    }

    /// <summary>The daemon (root here) runs each QEMU as a uid of its own from the worker uid range, with no capability,
    /// chrooted in an empty directory, still under its seccomp filter.</summary>
    private static void AssertQemuIsUnprivileged(MicrovmWorker worker)
    {
        var pid = worker.Vm.Process.Id;
        var status = File.ReadAllLines($"/proc/{pid}/status")
            .Select(l => l.Split(':', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1].Trim());
        var range = new Tern.Drivers.Sandbox.SandboxOptions();
        foreach (var ids in new[] { status["Uid"], status["Gid"] })
        {
            var values = ids.Split('\t', StringSplitOptions.RemoveEmptyEntries).Select(uint.Parse).Distinct().ToArray();
            var id = Assert.Single(values); // real, effective, saved and file system ids are one
            Assert.InRange(id, range.FirstWorkerUid, range.FirstWorkerUid + (uint)range.WorkerUidCount - 1);
        }
        Assert.Equal("0000000000000000", status["CapEff"]);
        Assert.Equal("0000000000000000", status["CapPrm"]);
        Assert.Equal("2", status["Seccomp"]);
        var root = new DirectoryInfo($"/proc/{pid}/root").LinkTarget;
        Assert.Equal(Path.Combine(worker.Vm.Launch.Dir, "root"), root);
        Assert.Empty(Directory.EnumerateFileSystemEntries(root!));
    }

    [Fact]
    public void MissingQemu_IsAProblemNamingThePackage()
    {
        var driver = Driver(new MicrovmOptions { QemuPath = "/nonexistent/qemu-system-x86_64", ImagesDir = GuestImageFixture.SharedImagesDir });
        Assert.Contains("apt-get install -y qemu-system-x86", driver.Problem());
    }

    [Fact]
    public async Task MissingImage_IsAProblemNamingTheBuildCommand_AndAStartFailsWithIt()
    {
        var driver = Driver(new MicrovmOptions { ImagesDir = Path.Combine(_dir, "no-images"), StateDir = Path.Combine(_dir, "m") });
        Assert.Contains("tern images build python", driver.Problem());
        var e = await Assert.ThrowsAsync<WorkerStartException>(() => driver.StartWorkerAsync(Spec(), CancellationToken.None));
        Assert.Contains("tern images build python", e.Message);
    }

    [Fact]
    public async Task ImageBuiltWithAnotherAgent_IsStale_AndIsNotStarted()
    {
        var images = Path.Combine(_dir, "old-images");
        var source = GuestImage.Find(GuestImageFixture.SharedImagesDir, "python")!;
        var copy = Path.Combine(images, "python", source.Hash);
        Directory.CreateDirectory(copy);
        foreach (var file in new[] { GuestImage.KernelFile, GuestImage.InitrdFile, GuestImage.RootfsFile })
            File.CreateSymbolicLink(Path.Combine(copy, file), Path.Combine(source.Directory, file));
        File.WriteAllText(Path.Combine(copy, GuestImage.ManifestFile),
            File.ReadAllText(Path.Combine(source.Directory, GuestImage.ManifestFile)).Replace(source.AgentSha256()!, new string('0', 64)));
        File.WriteAllText(Path.Combine(images, "python", "current"), source.Hash);
        var driver = Driver(new MicrovmOptions { ImagesDir = images, StateDir = Path.Combine(_dir, "m") });
        Assert.Contains("another version of the Tern agent: run `tern images build python`", driver.Problem());
        var e = await Assert.ThrowsAsync<WorkerStartException>(() => driver.StartWorkerAsync(Spec(), CancellationToken.None));
        Assert.Contains("tern images build python", e.Message);
        Assert.Null(Driver().Problem()); // the image the builder just made is this agent's

        // A usable image of another runtime makes the driver usable; the stale runtime's starts still name the rebuild.
        var fresh = Path.Combine(images, "node", source.Hash);
        Directory.CreateDirectory(fresh);
        foreach (var file in new[] { GuestImage.KernelFile, GuestImage.InitrdFile, GuestImage.RootfsFile, GuestImage.ManifestFile })
            File.CreateSymbolicLink(Path.Combine(fresh, file), Path.Combine(source.Directory, file));
        File.WriteAllText(Path.Combine(images, "node", "current"), source.Hash);
        Assert.Null(driver.Problem());
        e = await Assert.ThrowsAsync<WorkerStartException>(() => driver.StartWorkerAsync(Spec(), CancellationToken.None));
        Assert.Contains("another version of the Tern agent: run `tern images build python`", e.Message);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
