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

    public BubblewrapDriverTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "code"));
        File.WriteAllText(Path.Combine(_dir, "code", "main.py"), "print(1)");
        _options = new SandboxOptions { StateDir = Path.Combine(_dir, "state") };
    }

    private BubblewrapDriver Driver(SandboxOptions? options = null) =>
        new(Options.Create(options ?? _options), NullLogger<BubblewrapDriver>.Instance);

    private WorkerSpec Spec(int memoryMb = 192, int vcpus = 2) => new()
    {
        WorkerId = Guid.NewGuid().ToString("N"), FunctionName = "t",
        Code = new CodeMount(Path.Combine(_dir, "code"), null), MemoryMb = memoryMb, Vcpus = vcpus,
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
        var worker = await Driver().StartWorkerAsync(spec, CancellationToken.None);
        var v1 = Directory.Exists("/sys/fs/cgroup/memory");
        string Read(string controller, string file) => File.ReadAllText(v1
            ? $"/sys/fs/cgroup/{controller}/tern/{spec.WorkerId}/{file}"
            : $"/sys/fs/cgroup/tern/{spec.WorkerId}/{file}").Trim();

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
        Assert.False(Directory.Exists(v1 ? $"/sys/fs/cgroup/memory/tern/{spec.WorkerId}" : $"/sys/fs/cgroup/tern/{spec.WorkerId}"));
        Assert.False(Directory.Exists(Path.Combine(_options.StateDir!, spec.WorkerId)));
    }

    [Fact]
    public async Task TemplateWorker_AssignedCodeAndLimits_RunsThatCode()
    {
        File.WriteAllText(Path.Combine(_dir, "code", "main.py"), "print('\"from the slot\"')");
        var spec = Spec() with { Code = null };
        await using var worker = await Driver().StartWorkerAsync(spec, CancellationToken.None);
        await worker.AssignAsync(new CodeMount(Path.Combine(_dir, "code"), null), memoryMb: 320, vcpus: 1);
        await Assert.ThrowsAsync<NotSupportedException>(() => worker.AssignAsync(new CodeMount(_dir, null), 128, 1).AsTask());

        if (Directory.Exists("/sys/fs/cgroup/memory"))
            Assert.Equal((320L * 1024 * 1024).ToString(),
                File.ReadAllText($"/sys/fs/cgroup/memory/tern/{spec.WorkerId}/memory.limit_in_bytes").Trim());

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
        var spec = Spec() with { Code = new CodeMount(Path.Combine(_dir, "gone"), null) };
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
        Assert.Empty(Directory.EnumerateFileSystemEntries(state));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(state));

        // And a worker started afterwards works as before.
        await using var worker = await driver.StartWorkerAsync(Spec(), CancellationToken.None);
        await using var agent = new AgentClient(worker.Stream);
        Assert.Equal("success", (await agent.PingAsync(TimeSpan.FromSeconds(5), CancellationToken.None)).Status);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
