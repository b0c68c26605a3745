using Tern.Drivers.Microvm.Images;

namespace Tern.Drivers.Microvm;

/// <summary>One VM to start. A restore must name the same image, code drive, memory and vCPUs as the VM the snapshot
/// was taken from (the snapshot key covers them).</summary>
/// <param name="Dir">The worker's own directory: sockets, console log.</param>
/// <param name="CodeDrive">The read-only ext4 image of the function's code, or null.</param>
/// <param name="RestoreFrom">A snapshot file to restore instead of booting.</param>
internal sealed record VmLaunch(string Id, string Dir, GuestImage Image, string? CodeDrive, int MemoryMb, int Vcpus,
    string Accelerator, string? RestoreFrom)
{
    public string AgentSocket => Path.Combine(Dir, "agent.sock");
    public string ControlSocket => Path.Combine(Dir, "qmp.sock");
    public string ConsoleLog => Path.Combine(Dir, "console.log");
    public string PidFile => Path.Combine(Dir, "qemu.pid");
}
