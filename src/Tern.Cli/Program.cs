using System.Runtime.InteropServices;
using Tern.Cli;

// Ctrl+C / SIGTERM cancel the running command (and stop `tern daemon` gracefully);
// a second Ctrl+C is left to terminate the process at once.
using var cts = new CancellationTokenSource();
void OnSignal(PosixSignalContext signal)
{
    if (cts.IsCancellationRequested) return;
    signal.Cancel = true;
    cts.Cancel();
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

var app = new CliApp(Console.Out, Console.Error, Console.IsInputRedirected ? Console.In : null);
return await app.RunAsync(args, cts.Token);
