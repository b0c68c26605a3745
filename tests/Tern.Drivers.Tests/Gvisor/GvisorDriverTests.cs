using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tern.Agent.Protocol;
using Tern.Drivers.Gvisor;
using Tern.Drivers.Sandbox;
using Tern.Drivers.Tests.Sandbox;
using Tern.Core.Code;
using Tern.Json;
using Tern.Testing;

namespace Tern.Drivers.Tests.Gvisor;

/// <summary>The gVisor driver on its own, with the real runsc (scripts/install-deps.sh installs it) and real cgroups.
/// Each start costs about a second here (gVisor's ptrace platform): category "gvisor" lets a quick local run leave them
/// out (--filter Category!=gvisor); the default run includes them.</summary>
[Trait("Category", "gvisor")]
public sealed class GvisorDriverTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tern-gvisor-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly LocalCodeSource _code = new();
    private readonly List<GvisorDriver> _drivers = [];

    public GvisorDriverTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "code"));
        File.WriteAllText(Path.Combine(_dir, "code", "main.py"), "import os; print(os.getpid())");
    }

    private GvisorDriver Driver(GvisorOptions? options = null)
    {
        var driver = new GvisorDriver(Options.Create(options ?? new GvisorOptions { StateDir = Path.Combine(_dir, "g") }),
            Options.Create(new SandboxOptions()), NullLogger<GvisorDriver>.Instance, codeSource: _code);
        _drivers.Add(driver);
        return driver;
    }

    private WorkerSpec Spec(CodeRef? code = null) => new()
    {
        WorkerId = Guid.NewGuid().ToString("N"), FunctionName = "t",
        Code = code ?? _code.Add(Path.Combine(_dir, "code")), Limits = new WorkerLimits(MemoryMb: 128, Vcpus: 1),
    };

    private static Task<RespMessage> Exec(AgentClient agent) =>
        agent.ExecAsync(new ExecMessage { RequestId = "1", Input = RawJson.EmptyObject, TimeoutMs = 20_000 }, TimeSpan.FromSeconds(20), CancellationToken.None);

    [RootFact]
    public async Task Worker_RunsTheHandlerAsAGuestProcess_AndKillLeavesNothingBehind()
    {
        var driver = Driver();
        var spec = Spec();
        var worker = await driver.StartWorkerAsync(spec, CancellationToken.None);
        var cgroup = Directory.Exists("/sys/fs/cgroup/memory")
            ? $"/sys/fs/cgroup/memory/{driver.CgroupParent}/{spec.WorkerId}" : $"/sys/fs/cgroup/{driver.CgroupParent}/{spec.WorkerId}";
        if (Directory.Exists("/sys/fs/cgroup/memory"))
        {
            // The function's 128 MB plus room for gVisor's own kernel and file server, all charged to this cgroup.
            Assert.Equal(((128L + new GvisorOptions().MemoryOverheadMb) * 1024 * 1024).ToString(),
                File.ReadAllText(Path.Combine(cgroup, "memory.limit_in_bytes")).Trim());
            Assert.NotEmpty(File.ReadAllText(Path.Combine(cgroup, "cgroup.procs")).Trim());
            Assert.Equal("100000", File.ReadAllText($"/sys/fs/cgroup/cpu/{driver.CgroupParent}/{spec.WorkerId}/cpu.cfs_quota_us").Trim());
        }

        await using (var agent = new AgentClient(worker.Stream))
        {
            var init = await agent.InitAsync(new InitMessage { Runtime = "python", Handler = "main.py", MemoryMb = 128, TimeoutMs = 20_000 },
                TimeSpan.FromSeconds(20), CancellationToken.None);
            Assert.Equal("success", init.Status);
            var resp = await Exec(agent);
            Assert.Equal("success", resp.Status);
            // The agent is PID 1 of gVisor's own PID namespace; the handler a low pid after it.
            Assert.InRange(resp.Output!.Value.ToElement().GetInt32(), 2, 100);
        }

        await worker.KillAsync();
        await worker.Exited.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(Directory.Exists(cgroup), "the worker's cgroup outlived it");
        Assert.False(Directory.Exists(Path.Combine(driver.StateDir, spec.WorkerId)));
        Assert.False(Directory.Exists(Path.Combine(driver.StateDir, spec.WorkerId + ".oci")));
        Assert.DoesNotContain(spec.WorkerId, RunscList(driver.StateDir));
    }

    [RootFact]
    public async Task TemplateWorker_AssignedCodeAndLimits_RunsThatCode()
    {
        File.WriteAllText(Path.Combine(_dir, "code", "main.py"), "print('\"from the slot\"')");
        var driver = Driver();
        var spec = Spec() with { Code = null };
        await using var worker = await driver.StartWorkerAsync(spec, CancellationToken.None);
        await worker.AssignAsync(_code.Add(Path.Combine(_dir, "code")), new WorkerLimits(MemoryMb: 256, Vcpus: 1), CancellationToken.None);
        if (Directory.Exists("/sys/fs/cgroup/memory"))
            Assert.Equal(((256L + new GvisorOptions().MemoryOverheadMb) * 1024 * 1024).ToString(),
                File.ReadAllText($"/sys/fs/cgroup/memory/{driver.CgroupParent}/{spec.WorkerId}/memory.limit_in_bytes").Trim());

        await using var agent = new AgentClient(worker.Stream);
        var init = await agent.InitAsync(new InitMessage { Runtime = "python", Handler = "main.py", MemoryMb = 256, TimeoutMs = 20_000 },
            TimeSpan.FromSeconds(20), CancellationToken.None);
        Assert.Equal("success", init.Status);
        Assert.Equal("from the slot", (await Exec(agent)).Output?.ToElement().GetString());
    }

    [RootFact]
    public async Task SingleFileCode_IsLinkedIntoCodeDir()
    {
        var file = Path.Combine(_dir, "single.py");
        File.WriteAllText(file, "print('\"one file\"')");
        await using var worker = await Driver().StartWorkerAsync(Spec(_code.Add(file, "main.py")), CancellationToken.None);
        await using var agent = new AgentClient(worker.Stream);
        var init = await agent.InitAsync(new InitMessage { Runtime = "python", Handler = "main.py", MemoryMb = 128, TimeoutMs = 20_000 },
            TimeSpan.FromSeconds(20), CancellationToken.None);
        Assert.Equal("success", init.Status);
        Assert.Equal("one file", (await Exec(agent)).Output?.ToElement().GetString());
    }

    [RootFact]
    public async Task Platform_Auto_IsSystrap_WithTheInstalledRunsc_WhereCoreutilsLsWorks()
    {
        Assert.True(File.Exists(GvisorOptions.InstalledRunsc), $"no runsc at {GvisorOptions.InstalledRunsc}: scripts/install-deps.sh installs it");
        var driver = Driver();
        Assert.Null(driver.Problem());
        Assert.Equal("systrap", driver.Platform);
        Assert.Contains(GvisorOptions.InstalledRunsc + " has systrap", driver.PlatformNote);

        // Bookworm's runsc failed coreutils' statx (AT_NO_AUTOMOUNT: EINVAL), so `ls` could not list anything.
        var code = Path.Combine(_dir, "ls");
        Directory.CreateDirectory(code);
        File.WriteAllText(Path.Combine(code, "main.py"),
            "import json, subprocess\nprint(json.dumps(subprocess.run(['ls', '/code'], capture_output=True, text=True).stdout.split()))");
        var spec = Spec(_code.Add(code));
        await using var worker = await driver.StartWorkerAsync(spec, CancellationToken.None);
        Assert.Equal(["systrap"], PlatformsOf(spec.WorkerId));
        await using var agent = new AgentClient(worker.Stream);
        var init = await agent.InitAsync(new InitMessage { Runtime = "python", Handler = "main.py", MemoryMb = 128, TimeoutMs = 20_000 },
            TimeSpan.FromSeconds(20), CancellationToken.None);
        Assert.Equal("success", init.Status);
        var resp = await Exec(agent);
        Assert.Equal("success", resp.Status);
        Assert.Equal(["main.py"], resp.Output!.Value.ToElement().EnumerateArray().Select(e => e.GetString()));
    }

    [RootFact]
    public async Task Platform_ExplicitPtrace_IsHonoured_OnTheSystrapCapableRunsc()
    {
        var driver = Driver(new GvisorOptions { StateDir = Path.Combine(_dir, "g"), Platform = "ptrace" });
        Assert.Null(driver.Problem());
        Assert.Equal("ptrace", driver.Platform);
        Assert.Contains("set by gvisor.platform", driver.PlatformNote);
        var spec = Spec();
        await using var worker = await driver.StartWorkerAsync(spec, CancellationToken.None);
        Assert.Equal(["ptrace"], PlatformsOf(spec.WorkerId));
        await using var agent = new AgentClient(worker.Stream);
        var init = await agent.InitAsync(new InitMessage { Runtime = "python", Handler = "main.py", MemoryMb = 128, TimeoutMs = 20_000 },
            TimeSpan.FromSeconds(20), CancellationToken.None);
        Assert.Equal("success", init.Status);
        Assert.Equal("success", (await Exec(agent)).Status);
    }

    /// <summary>The --platform flags of the host processes serving one worker (runsc run, its gofer and the sandbox).</summary>
    private static string[] PlatformsOf(string workerId)
    {
        var pids = HostProcesses.WithArgument(workerId);
        var args = pids.Select(pid => File.ReadAllText($"/proc/{pid}/cmdline").Split('\0')).ToList();
        Assert.Contains(args, a => a[0] == "runsc-sandbox");
        return args.SelectMany(a => a).Where(a => a.StartsWith("--platform=", StringComparison.Ordinal))
            .Select(a => a["--platform=".Length..]).Distinct().ToArray();
    }

    private static string RunscList(string stateDir)
    {
        using var list = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("runsc", ["--root", Path.Combine(stateDir, "runsc"), "list", "-quiet"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var output = list.StandardOutput.ReadToEnd();
        list.WaitForExit();
        return output;
    }

    public void Dispose()
    {
        foreach (var driver in _drivers) driver.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>What a daemon without runsc says: fast, no gVisor needed.</summary>
public sealed class GvisorMissingComponentTests
{
    [Fact]
    public async Task NoRunsc_ProblemNamesThePackage_AndStartsFailWithTheSameWords()
    {
        var driver = new GvisorDriver(Options.Create(new GvisorOptions { RunscPath = "/nonexistent/runsc", StateDir = Path.Combine(Path.GetTempPath(), "tern-no-runsc") }),
            Options.Create(new SandboxOptions()), NullLogger<GvisorDriver>.Instance);
        var problem = driver.Problem();
        Assert.NotNull(problem);
        Assert.Contains("/nonexistent/runsc", problem);
        Assert.Contains("apt-get install -y runsc", problem);
        var e = await Assert.ThrowsAsync<WorkerStartException>(() => driver.StartWorkerAsync(new WorkerSpec
        {
            WorkerId = "w", FunctionName = "f", Code = null,
        }, CancellationToken.None));
        Assert.Equal(problem, e.Message);
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "tern-no-runsc")), "a driver that cannot run must not touch the disk");
    }

    /// <summary>Debian bookworm's runsc (December 2022), which predates systrap.</summary>
    private static GvisorDriver BookwormDriver(string platform, string stateDir)
    {
        var version = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(GvisorOptions.DebianRunsc, ["--version"]) { RedirectStandardOutput = true })!;
        Assert.Contains("0.0~20221219", version.StandardOutput.ReadToEnd()); // bookworm's, as scripts/install-deps.sh installs it
        version.WaitForExit();
        return new GvisorDriver(Options.Create(new GvisorOptions { RunscPath = GvisorOptions.DebianRunsc, Platform = platform, StateDir = stateDir }),
            Options.Create(new SandboxOptions()), NullLogger<GvisorDriver>.Instance);
    }

    [RootFact]
    public async Task ExplicitSystrap_OnARunscWithoutIt_IsAProblemNamingTheFix_AndNothingStarts()
    {
        var stateDir = Path.Combine(Path.GetTempPath(), "tern-old-runsc-" + Guid.NewGuid().ToString("N")[..8]);
        using var driver = BookwormDriver("systrap", stateDir);
        var problem = driver.Problem();
        Assert.NotNull(problem);
        Assert.Contains($"runsc 0.0~20221219.0 at {GvisorOptions.DebianRunsc} does not support the 'systrap' platform", problem);
        Assert.Contains("unknown platform: systrap", problem);
        Assert.Contains("scripts/install-deps.sh", problem);
        Assert.Null(driver.Platform);
        var e = await Assert.ThrowsAsync<WorkerStartException>(() => driver.StartWorkerAsync(new WorkerSpec { WorkerId = "w", FunctionName = "f", Code = null },
            CancellationToken.None));
        Assert.Equal(problem, e.Message);
        Assert.False(Directory.Exists(stateDir), "a driver that cannot run must not touch the disk");
    }

    [RootFact]
    public void Auto_OnARunscWithoutSystrap_FallsBackToPtrace_AndSaysWhy()
    {
        using var driver = BookwormDriver("auto", Path.Combine(Path.GetTempPath(), "tern-old-runsc-" + Guid.NewGuid().ToString("N")[..8]));
        Assert.Null(driver.Problem());
        Assert.Equal("ptrace", driver.Platform);
        Assert.Contains("predates systrap", driver.PlatformNote);
        Assert.Contains(GvisorOptions.InstalledRunsc, driver.PlatformNote);
    }
}
