using System.Diagnostics;
using Tern.Drivers.Sandbox;
using Tern.Drivers.Sandbox.Uids;

namespace Tern.Drivers.Microvm;

/// <summary>A launched VM: its hypervisor process (the VM ends when it does) and what it was launched with.</summary>
/// <param name="uid">The host uid the hypervisor runs as, leased for the VM's life: given back once the process is gone.</param>
internal sealed class VmInstance(VmLaunch launch, Process process, StderrTail stderr, WorkerUid? uid = null)
{
    public VmLaunch Launch { get; } = launch;
    public Process Process { get; } = process;
    public StderrTail Stderr { get; } = stderr;
    public Task Exited { get; } = WaitAndRelease(process, uid);

    private static async Task WaitAndRelease(Process process, WorkerUid? uid)
    {
        try
        {
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        finally
        {
            uid?.Dispose(); // nothing runs as it any more: QEMU spawns no process
        }
    }

    /// <summary>The last lines the guest printed on its console (kernel messages, the init script's errors).</summary>
    public string ConsoleTail(int maxBytes = 2048)
    {
        try
        {
            using var file = new FileStream(Launch.ConsoleLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (file.Length > maxBytes) file.Position = file.Length - maxBytes;
            using var reader = new StreamReader(file);
            return reader.ReadToEnd().Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
