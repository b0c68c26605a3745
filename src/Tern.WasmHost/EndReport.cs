using Microsoft.Win32.SafeHandles;
using Tern.Runtimes;

namespace Tern.WasmHost;

/// <summary>Process mode with <c>--report-end</c>: the module has ended, so the call is over; say so on stderr (the
/// end-of-call trailer, Tern.Runtimes/EndOfCallTrailer.cs), let go of the pipes and leave. The agent answers as soon as
/// both pipes end with the trailer; this process's exit (unmapping the instance's reservations, Wasmtime's and .NET's
/// threads ending) then happens after the answer, not before it.</summary>
internal static class EndReport
{
    /// <summary>Writes the trailer, closes stdout and stderr (this process holds the only write ends of the agent's
    /// pipes: the agent sees them end) and exits with <paramref name="exitCode"/> at once, tidying nothing: the module's
    /// writes went straight to the pipes, and the store, the module and the engine need no disposing before a process
    /// ends. The runtime's own calls only (no P/Invoke into libc, whose lookup by name costs a millisecond here).</summary>
    public static void WriteAndExit(string token, int exitCode)
    {
        try
        {
            using var stderr = new FileStream(new SafeFileHandle(2, ownsHandle: false), FileAccess.Write, bufferSize: 0);
            stderr.Write(EndOfCallTrailer.Format(token, exitCode));
        }
        catch (IOException)
        {
            // The agent is gone: nobody to tell.
        }
        new SafeFileHandle(1, ownsHandle: true).Dispose();
        new SafeFileHandle(2, ownsHandle: true).Dispose();
        Environment.Exit(exitCode);
    }
}
