using Tern.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tern.Agent.Protocol;
using Tern.Drivers.Sandbox;

namespace Tern.Drivers.Tests.Sandbox;

/// <summary>The driver on its own: a worker is a byte stream to an agent, with its limits in real cgroups.</summary>
public sealed class BubblewrapDriverTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tern-driver-" + Guid.NewGuid().ToString("N"));
    private readonly SandboxOptions _options;
    private readonly List<BubblewrapDriver> _drivers = [];

    private readonly LocalCodeSource _code = new();

    public BubblewrapDriverTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "code"));
        File.WriteAllText(Path.Combine(_dir, "code", "main.py"), "print(1)");
        _options = new SandboxOptions { StateDir = Path.Combine(_dir, "state") };
    }

    private BubblewrapDriver Driver(SandboxOptions? options = null)
    {
        var driver = new BubblewrapDriver(Options.Create(options ?? _options), NullLogger<BubblewrapDriver>.Instance, codeSource: _code);
        _drivers.Add(driver);
        return driver;
    }

    private static string CgroupDir(BubblewrapDriver driver, string controller, string workerId) =>
        Directory.Exists("/sys/fs/cgroup/memory")
            ? $"/sys/fs/cgroup/{controller}/{driver.CgroupParent}/{workerId}"
            : $"/sys/fs/cgroup/{driver.CgroupParent}/{workerId}";

    private WorkerSpec Spec(int memoryMb = 192, int vcpus = 2) => new()
    {
        WorkerId = Guid.NewGuid().ToString("N"), FunctionName = "t",
        Code = _code.Add(Path.Combine(_dir, "code")), Limits = new WorkerLimits(memoryMb, vcpus),
    };

    [Fact]
    public async Task StartWorker_AgentAnswersPingOverTheStream()
    {
        await using var worker = await Driver().StartWorkerAsync(Spec(), CancellationToken.None);
        await using var agent = new AgentClient(worker.Stream);
        var pong = await agent.PingAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal("success", pong.Status);
    }

    [Fact]
    public async Task StartWorker_CgroupHoldsTheSpecLimits_AndKillRemovesIt()
    {
        var spec = Spec(memoryMb: 192, vcpus: 2);
        var driver = Driver();
        var worker = await driver.StartWorkerAsync(spec, CancellationToken.None);
        var v1 = Directory.Exists("/sys/fs/cgroup/memory");
        string Read(string controller, string file) => File.ReadAllText(Path.Combine(CgroupDir(driver, controller, spec.WorkerId), file)).Trim();

        if (v1)
        {
            Assert.Equal((192L * 1024 * 1024).ToString(), Read("memory", "memory.limit_in_bytes"));
            Assert.Equal("256", Read("pids", "pids.max"));
            Assert.Equal("200000", Read("cpu", "cpu.cfs_quota_us"));
            Assert.Equal("100000", Read("cpu", "cpu.cfs_period_us"));
            Assert.NotEmpty(Read("memory", "cgroup.procs"));
        }
        else
        {
            Assert.Equal((192L * 1024 * 1024).ToString(), Read("", "memory.max"));
            Assert.Equal("256", Read("", "pids.max"));
            Assert.Equal("200000 100000", Read("", "cpu.max"));
        }

        await worker.KillAsync();
        await worker.Exited.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(Directory.Exists(CgroupDir(driver, "memory", spec.WorkerId)));
        Assert.False(Directory.Exists(Path.Combine(_options.StateDir!, spec.WorkerId)));
    }

    private static IEnumerable<string> ParentDirs(BubblewrapDriver driver) => ParentDirs(driver.CgroupParent);

    private static IEnumerable<string> ParentDirs(string parent) => Directory.Exists("/sys/fs/cgroup/memory")
        ? new[] { "memory", "pids", "cpu" }.Select(c => $"/sys/fs/cgroup/{c}/{parent}")
        : [$"/sys/fs/cgroup/{parent}"];

    [Fact]
    public async Task TwoDaemons_EachSweepsOnlyItsOwnCgroupParent()
    {
        // A cgroup is empty between its creation and the launcher joining it: a sweep by another daemon of a shared
        // parent removed it in that window ("cgroup directory missing").
        var optionsA = new SandboxOptions { StateDir = Path.Combine(_dir, "state-a") };
        var optionsB = new SandboxOptions { StateDir = Path.Combine(_dir, "state-b") };
        var a = Driver(optionsA);
        var b = Driver(optionsB);
        Assert.NotEqual(a.CgroupParent, b.CgroupParent);
        Assert.StartsWith("tern/", a.CgroupParent);

        await using (await a.StartWorkerAsync(Spec(), CancellationToken.None))
        {
            var pending = ParentDirs(a).Select(p => Path.Combine(p, "being-joined")).ToList();
            foreach (var dir in pending) Directory.CreateDirectory(dir);

            await using (await b.StartWorkerAsync(Spec(), CancellationToken.None))
                Assert.All(pending, dir => Assert.True(Directory.Exists(dir), $"daemon B swept daemon A's {dir}"));

            // A restarted daemon A (same state dir) does sweep what A left.
            var restarted = Driver(optionsA);
            Assert.Equal(a.CgroupParent, restarted.CgroupParent);
            await using (await restarted.StartWorkerAsync(Spec(), CancellationToken.None))
                Assert.All(pending, dir => Assert.False(Directory.Exists(dir), $"the restarted daemon left its own empty {dir}"));
        }
    }

    [Fact]
    public async Task NewDaemon_RemovesTheCgroupsOfADeadDaemon_ButNotOfALiveOne()
    {
        // A daemon killed with a state dir nobody reuses (a test's) leaves its parent and empty worker cgroups behind;
        // its owner lock died with it. A live daemon holds its lock, so a cgroup it is about to join survives.
        var deadId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        foreach (var dir in ParentDirs("tern/" + deadId)) Directory.CreateDirectory(Path.Combine(dir, "w-of-a-dead-daemon"));

        var live = Driver(new SandboxOptions { StateDir = Path.Combine(_dir, "state-live") });
        await using (await live.StartWorkerAsync(Spec(), CancellationToken.None))
        {
            var pending = ParentDirs(live).Select(p => Path.Combine(p, "being-joined")).ToList();
            foreach (var dir in pending) Directory.CreateDirectory(dir);

            var fresh = Driver(new SandboxOptions { StateDir = Path.Combine(_dir, "state-fresh") });
            await using (await fresh.StartWorkerAsync(Spec(), CancellationToken.None))
            {
                Assert.All(ParentDirs("tern/" + deadId), dir => Assert.False(Directory.Exists(dir), $"the dead daemon's {dir} stayed"));
                Assert.All(pending, dir => Assert.True(Directory.Exists(dir), $"the live daemon's {dir} was swept"));
            }
        }
    }

    [Fact]
    public async Task Dispose_AfterItsWorkersAreGone_RemovesTheDaemonsParentCgroup()
    {
        var driver = Driver();
        var worker = await driver.StartWorkerAsync(Spec(), CancellationToken.None);
        Assert.All(ParentDirs(driver), dir => Assert.True(Directory.Exists(dir)));
        await worker.DisposeAsync();
        driver.Dispose();
        Assert.All(ParentDirs(driver), dir => Assert.False(Directory.Exists(dir), $"{dir} outlived its daemon"));
    }

    [Fact]
    public async Task TemplateWorker_AssignedCodeAndLimits_RunsThatCode()
    {
        File.WriteAllText(Path.Combine(_dir, "code", "main.py"), "print('\"from the slot\"')");
        var spec = Spec() with { Code = null };
        var driver = Driver();
        await using var worker = await driver.StartWorkerAsync(spec, CancellationToken.None);
        await worker.AssignAsync(_code.Add(Path.Combine(_dir, "code")), new WorkerLimits(MemoryMb: 320, Vcpus: 1), CancellationToken.None);
        await Assert.ThrowsAsync<NotSupportedException>(() => worker.AssignAsync(_code.Add(_dir), new WorkerLimits(), CancellationToken.None).AsTask());

        if (Directory.Exists("/sys/fs/cgroup/memory"))
            Assert.Equal((320L * 1024 * 1024).ToString(),
                File.ReadAllText(Path.Combine(CgroupDir(driver, "memory", spec.WorkerId), "memory.limit_in_bytes")).Trim());

        await using var agent = new AgentClient(worker.Stream);
        var init = await agent.InitAsync(new InitMessage { Runtime = "python", Handler = "main.py", MemoryMb = 320, TimeoutMs = 10_000 },
            TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal("success", init.Status);
        var resp = await agent.ExecAsync(new ExecMessage { RequestId = "1", Input = RawJson.EmptyObject, TimeoutMs = 10_000 },
            TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal("from the slot", resp.Output?.ToElement().GetString());
    }

    [Fact]
    public async Task StartWorker_FromAThreadThatThenExits_WorkerSurvives()
    {
        // --die-with-parent is tied to the forking thread; workers must not die with a retired pool thread.
        IWorker? started = null;
        var thread = new Thread(() => started = Driver().StartWorkerAsync(Spec(), CancellationToken.None).GetAwaiter().GetResult());
        thread.Start();
        thread.Join();
        await using var worker = started!;
        await Task.Delay(500);
        Assert.False(worker.Exited.IsCompleted, "the worker died when the thread that asked for it exited");
        await using var agent = new AgentClient(worker.Stream);
        Assert.Equal("success", (await agent.PingAsync(TimeSpan.FromSeconds(5), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task StartWorker_AgentMissing_ThrowsClearWorkerStartException()
    {
        var options = new SandboxOptions { StateDir = _options.StateDir, AgentPath = Path.Combine(_dir, "no-agent") };
        var e = await Assert.ThrowsAsync<WorkerStartException>(() => Driver(options).StartWorkerAsync(Spec(), CancellationToken.None));
        Assert.Contains("agent is missing", e.Message);
    }

    [Fact]
    public async Task StartWorker_CodeDirMissing_ThrowsWithTheSandboxError()
    {
        var spec = Spec() with { Code = _code.Add(Path.Combine(_dir, "gone")) };
        var e = await Assert.ThrowsAsync<WorkerStartException>(() => Driver().StartWorkerAsync(spec, CancellationToken.None));
        Assert.Contains("sandbox exited", e.Message);
    }

    [Fact]
    public async Task NewDriver_RemovesWorkerDirsAPreviousDaemonLeft_AndKeepsTheStateDirPrivate()
    {
        // What kill -9 of a daemon leaves: worker and code directories (the sweep found 48 under /tmp, mode 0755).
        var state = _options.StateDir!;
        foreach (var name in new[] { "t0123", "t0123-code", "t4567" })
        {
            Directory.CreateDirectory(Path.Combine(state, name));
            File.WriteAllText(Path.Combine(state, name, "main.py"), "secret code");
        }
        File.SetUnixFileMode(state, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        var driver = Driver();
        // Only the seccomp program the new driver writes for its launchers is there.
        Assert.Equal(["seccomp.bpf"], Directory.EnumerateFileSystemEntries(state).Select(Path.GetFileName));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(state));

        // And a worker started afterwards works as before.
        await using var worker = await driver.StartWorkerAsync(Spec(), CancellationToken.None);
        await using var agent = new AgentClient(worker.Stream);
        Assert.Equal("success", (await agent.PingAsync(TimeSpan.FromSeconds(5), CancellationToken.None)).Status);
    }

    public void Dispose()
    {
        foreach (var driver in _drivers) driver.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
