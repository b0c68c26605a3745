namespace Tern.Agent;

/// <summary>Creates every thread the agent will need up front and caps the pool there. Threads count against the
/// worker's pids limit: a handler that forks until the limit is hit must not leave the agent unable to start a
/// pool thread (which .NET treats as a fatal OutOfMemoryException).</summary>
internal static class AgentThreads
{
    public const int PoolThreads = 8;

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
    }
}
