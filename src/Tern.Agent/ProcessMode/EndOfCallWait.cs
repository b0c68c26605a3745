using System.Diagnostics;
using Tern.Runtimes;

namespace Tern.Agent.ProcessMode;

/// <summary>One process-mode call to a runtime whose host reports the end of its call (the wasm host; see
/// Tern.Runtimes/EndOfCallTrailer.cs): the host is given a token of this call's own, and the call is over as soon as
/// both of its pipes have ended with the trailer carrying that token, without waiting for the process to exit (on this
/// kind of machine its exit, unmapping a Wasmtime instance's reservations and ending its threads, then the agent's
/// SIGCHLD handling, cost a cold start milliseconds). The process is reaped after the answer. Such a host starts no
/// processes (WASI preview1 has no way to), so nothing can be left behind but the host itself: the call needs no sweep
/// of the worker (<see cref="OrphanReaper"/>) before its answer.</summary>
internal sealed class EndOfCallWait
{
    /// <summary>How long a host that reported its end may take to exit before it is killed.</summary>
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(5);

    public string Token { get; } = EndOfCallTrailer.NewToken();

    /// <summary>The host's command line with the option that asks for the trailer (options go before the module).</summary>
    public string[] Argv(string[] argv) => [argv[0], EndOfCallTrailer.Flag, Token, .. argv.AsSpan(1)];

    /// <summary>Waits until both pipes have ended or the process has exited, whichever comes first. Returns the exit
    /// code the host reported when the pipes ended with its trailer (stripped from <paramref name="stderr"/>), else null:
    /// then the caller waits for the exit as for any handler (a host killed or crashed before reporting, or one that
    /// exited while its output was still being read: <see cref="Strip"/> then takes its trailer off).</summary>
    public async Task<int?> WaitAsync(Process process, Task pipes, BoundedCapture stderr, CancellationToken ct)
    {
        await Task.WhenAny(pipes, process.WaitForExitAsync(ct)).ConfigureAwait(false);
        return pipes.IsCompletedSuccessfully && TryTake(stderr, out var exitCode) ? exitCode : null;
    }

    /// <summary>Takes this call's trailer off the end of <paramref name="stderr"/>, if it is there.</summary>
    public void Strip(BoundedCapture stderr) => TryTake(stderr, out _);

    private bool TryTake(BoundedCapture stderr, out int exitCode)
    {
        if (!EndOfCallTrailer.TryParse(stderr.ToBytes(), Token, out exitCode, out var length)) return false;
        stderr.DropLast(length);
        return true;
    }

    /// <summary>After the answer: waits for the host to exit (killing it if it lingers) and releases it.</summary>
    public static async Task ReapAsync(Process process)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(ExitGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            try { process.Kill(); } catch (InvalidOperationException) { } catch (System.ComponentModel.Win32Exception) { }
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        finally
        {
            process.Dispose();
        }
    }
}
