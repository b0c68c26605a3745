using Tern.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tern.Agent.Protocol;
using Tern.Drivers;
using Tern.Drivers.Sandbox;

namespace Tern.Runtimes.Tests;

/// <summary>One real worker (the agent in the bubblewrap sandbox) driven directly over the agent protocol, without
/// the daemon: several calls on the same worker, concurrent calls, what happens inside between calls.</summary>
internal sealed class SandboxAgent : IAsyncDisposable
{
    private readonly string _dir;
    private readonly BubblewrapDriver _driver;
    private readonly IWorker _worker;
    private readonly ManualResetEventSlim _launcherMayExit;

    private SandboxAgent(string dir, BubblewrapDriver driver, IWorker worker, AgentClient client, ManualResetEventSlim launcherMayExit)
    {
        _dir = dir;
        _driver = driver;
        _worker = worker;
        _launcherMayExit = launcherMayExit;
        Client = client;
    }

    public AgentClient Client { get; }

    /// <summary>The Init answer (status "error" with a code when the handler did not load).</summary>
    public RespMessage InitResponse { get; private set; } = null!;

    /// <param name="files">The code package: file name (relative to /code) to contents.</param>
    public static async Task<SandboxAgent> StartAsync(IReadOnlyDictionary<string, byte[]> files, InitMessage init, int memoryMb = 256)
    {
        var dir = Path.Combine(Path.GetTempPath(), "tern-rt-agent-" + Guid.NewGuid().ToString("N"));
        var code = Path.Combine(dir, "code");
        Directory.CreateDirectory(code);
        foreach (var (name, bytes) in files)
        {
            var path = Path.Combine(code, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, bytes);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(code, (UnixFileMode)0b111_101_101);

        var codeSource = new LocalCodeSource();
        var driver = new BubblewrapDriver(Options.Create(new SandboxOptions { StateDir = Path.Combine(dir, "state") }),
            NullLogger<BubblewrapDriver>.Instance, codeSource: codeSource);
        var spec = new WorkerSpec
        {
            WorkerId = Guid.NewGuid().ToString("N"), FunctionName = init.FunctionName,
            Code = codeSource.Add(code), Limits = new WorkerLimits(MemoryMb: memoryMb),
        };
        // bubblewrap runs with --die-with-parent, and Linux sends that signal when the *thread* that forked it ends:
        // fork from a thread that lives as long as the worker, not from whichever test thread happens to run this.
        var started = new TaskCompletionSource<IWorker>(TaskCreationOptions.RunContinuationsAsynchronously);
        var launcherMayExit = new ManualResetEventSlim();
        var launcher = new Thread(() =>
        {
            try { started.SetResult(driver.StartWorkerAsync(spec, CancellationToken.None).GetAwaiter().GetResult()); }
            catch (Exception e) { started.SetException(e); }
            launcherMayExit.Wait();
        }) { IsBackground = true, Name = "sandbox-launcher" };
        launcher.Start();
        IWorker worker;
        try
        {
            worker = await started.Task;
        }
        catch
        {
            launcherMayExit.Set();
            driver.Dispose();
            throw;
        }
        var client = new AgentClient(worker.Stream);
        var agent = new SandboxAgent(dir, driver, worker, client, launcherMayExit);
        agent.InitResponse = await client.InitAsync(init, TimeSpan.FromSeconds(60), CancellationToken.None);
        return agent;
    }

    public static InitMessage Init(string runtime, string handler, string mode = "persistent", int timeoutMs = 10_000,
        int instanceConcurrency = 1, int maxMessageBytes = AgentChannel.DefaultMaxFrameBytes) => new()
    {
        Runtime = runtime, Handler = handler, Mode = mode, FunctionName = "agent-test", Revision = 3, MemoryMb = 256,
        TimeoutMs = timeoutMs, InstanceConcurrency = instanceConcurrency, MaxMessageBytes = maxMessageBytes,
    };

    public Task<RespMessage> ExecAsync(string eventJson, int timeoutMs = 10_000, string? requestId = null)
    {
        using var doc = JsonDocument.Parse(eventJson);
        var exec = new ExecMessage
        {
            RequestId = requestId ?? Guid.NewGuid().ToString(), Input = RawJson.FromElement(doc.RootElement), TimeoutMs = timeoutMs, TraceId = "trace-1",
        };
        return Client.ExecAsync(exec, TimeSpan.FromMilliseconds(timeoutMs) + TimeSpan.FromSeconds(10), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _worker.DisposeAsync();
        _driver.Dispose(); // its parent cgroup goes with it
        _launcherMayExit.Set();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
