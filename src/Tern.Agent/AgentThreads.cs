using System.Collections.Concurrent;

namespace Tern.Agent;

/// <summary>Creates every thread the agent will need up front. Threads count against the worker's pids limit: a
/// handler that forks until the limit is hit must not leave the agent unable to start a thread (which .NET treats
/// as a fatal OutOfMemoryException in the thread pool).
/// <para>Two kinds: the thread pool (capped, and told not to spin: see the project file), for the rare async work;
/// and parked threads for blocking loops (a handler's stdout and stderr pumps), which are the hot path: a blocked
/// read costs nothing until data arrives, and then exactly one wake-up.</para></summary>
internal static class AgentThreads
{
    public const int PoolThreads = 8;
    /// <summary>Four; a spare (template) worker parks two more: its Python zygote holds two pumps until it is discarded
    /// (a second after Init), and adopting the wasm zygote (two pumps) beside the persistent runner's watchdog (one) must
    /// not start a thread on the cold start's path.</summary>
    public static int ParkedThreads { get; } = Environment.GetEnvironmentVariable("TERN_AGENT_TEMPLATE") == "1" ? 6 : 4;

    private static readonly BlockingCollection<Action> Jobs = new();

    public static void Prewarm()
    {
        ThreadPool.SetMinThreads(PoolThreads, PoolThreads);
        ThreadPool.SetMaxThreads(PoolThreads, PoolThreads);
        using var allStarted = new CountdownEvent(PoolThreads);
        using var release = new ManualResetEventSlim();
        for (var i = 0; i < PoolThreads; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                allStarted.Signal();
                release.Wait();
            }, null);
        }
        allStarted.Wait(TimeSpan.FromSeconds(5));
        release.Set();
        // The timer thread is otherwise created by the first call's timeout.
        using var timer = new Timer(_ => { }, null, 0, Timeout.Infinite);
        for (var i = 0; i < ParkedThreads; i++)
            new Thread(RunJobs) { IsBackground = true, Name = "tern-agent-pump" }.Start();
    }

    /// <summary>Runs a blocking loop on a parked thread (or, if none is free, a new one). A job is queued only for a
    /// thread reserved for it, so it never waits behind another loop.</summary>
    public static void RunBlocking(Action job)
    {
        while (true)
        {
            var idle = Volatile.Read(ref _idle);
            if (idle <= 0)
            {
                new Thread(() => Run(job)) { IsBackground = true, Name = "tern-agent-extra" }.Start();
                return;
            }
            if (Interlocked.CompareExchange(ref _idle, idle - 1, idle) == idle)
            {
                Jobs.Add(job);
                return;
            }
        }
    }

    private static int _idle;

    private static void RunJobs()
    {
        Interlocked.Increment(ref _idle);
        while (true)
        {
            Run(Jobs.Take());
            Interlocked.Increment(ref _idle);
        }
    }

    private static void Run(Action job)
    {
        try
        {
            job();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"tern-agent: a pump failed: {e.Message}");
        }
    }
}
