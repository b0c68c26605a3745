using System.Collections.Concurrent;
using System.Diagnostics;

namespace Tern.Drivers.Sandbox;

/// <summary>Starts every sandbox from one thread that lives as long as the daemon. bubblewrap's --die-with-parent
/// (PR_SET_PDEATHSIG) fires when the *thread* that forked it exits, not the process; a thread-pool thread that
/// retires after being idle would otherwise take its workers down with it.</summary>
internal static class LauncherThread
{
    private static readonly BlockingCollection<(ProcessStartInfo Start, TaskCompletionSource<Process> Result)> Requests = new();

    static LauncherThread()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "tern-sandbox-launcher" };
        thread.Start();
    }

    public static Task<Process> StartAsync(ProcessStartInfo start)
    {
        var result = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((start, result));
        return result.Task;
    }

    private static void Run()
    {
        foreach (var (start, result) in Requests.GetConsumingEnumerable())
        {
            try
            {
                result.SetResult(Process.Start(start) ?? throw new WorkerStartException("could not start the sandbox launcher"));
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        }
    }
}
