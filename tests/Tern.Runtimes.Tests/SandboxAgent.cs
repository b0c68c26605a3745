using Tern.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tern.Agent.Protocol;
using Tern.Drivers;
using Tern.Drivers.Sandbox;
using Tern.Drivers.Wasm;
using Tern.Testing;

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
    /// <param name="fromSpare">Start the worker as a spare (template, no code) and assign the code to it, as a cold start
    /// from a spare does.</param>
    /// <param name="precompile">Have the daemon's <see cref="WasmModules"/> precompile the wasm handler beside the code first
    /// (what registering does); <paramref name="beforeStart"/> may then change what it wrote.</param>
    public static async Task<SandboxAgent> StartAsync(IReadOnlyDictionary<string, byte[]> files, InitMessage init, int memoryMb = 256,
        bool fromSpare = false, bool precompile = false, Action<string>? beforeStart = null)
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
        var compiled = Path.Combine(dir, "compiled");
        var codeRef = codeSource.Add(code, compiledPath: compiled);
        var sandboxOptions = Options.Create(new SandboxOptions { StateDir = Path.Combine(dir, "state") });
        if (precompile)
        {
            var written = await new WasmModules(sandboxOptions, NullLogger<WasmModules>.Instance, codeSource).PrecompileAsync(codeRef, init.Handler, CancellationToken.None)
                ?? throw new InvalidOperationException($"{init.Handler} was not precompiled");
            beforeStart?.Invoke(written);
        }
        var driver = new BubblewrapDriver(sandboxOptions, NullLogger<BubblewrapDriver>.Instance, codeSource: codeSource);
        var limits = new WorkerLimits(MemoryMb: memoryMb);
        var spec = new WorkerSpec
        {
            WorkerId = Guid.NewGuid().ToString("N"), FunctionName = init.FunctionName, Code = fromSpare ? null : codeRef, Limits = limits,
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
        var agent = new SandboxAgent(dir, driver, worker, client, launcherMayExit) { WorkerId = spec.WorkerId };
        if (fromSpare)
        {
            // As the daemon's spares are: started ahead, with their zygotes up by the time a cold start takes one.
            await Eventually.TrueAsync(() => agent.WorkerProcesses().Any(p => p.Contains("--zygote") && p.Contains(RuntimeCatalog.WasmHost)),
                "the spare's wasm zygote to start", 20_000);
            agent.SpareProcesses = agent.WorkerProcesses();
            await worker.AssignAsync(codeRef, limits, CancellationToken.None);
        }
        agent.InitResponse = await client.InitAsync(init, TimeSpan.FromSeconds(60), CancellationToken.None);
        return agent;
    }

    public string WorkerId { get; private init; } = "";

    /// <summary>A spare's processes just before the code was assigned (command lines), for tests of its zygotes.</summary>
    public IReadOnlyList<string> SpareProcesses { get; private set; } = [];

    /// <summary>The command lines (arguments joined by spaces) of every process in the worker's cgroup.</summary>
    public IReadOnlyList<string> WorkerProcesses()
    {
        var procs = new[] { "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup" }
            .Select(root => Path.Combine(root, _driver.CgroupParent, WorkerId, "cgroup.procs"))
            .FirstOrDefault(File.Exists);
        if (procs is null) return [];
        var lines = new List<string>();
        foreach (var pid in File.ReadAllLines(procs).Where(l => l.Length > 0))
        {
            try { lines.Add(File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim()); }
            catch (IOException) { } // gone meanwhile
        }
        return lines;
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
