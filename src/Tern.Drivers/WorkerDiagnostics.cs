namespace Tern.Drivers;

/// <param name="OutOfMemory">The worker hit its memory limit and the kernel killed something in it.</param>
/// <param name="StderrTail">The last lines the worker itself (not the handler) printed, for start-up failures.</param>
/// <param name="ProcessLimitReached">A fork or thread start in the worker was refused at its process limit (a fork bomb).</param>
public sealed record WorkerDiagnostics(bool OutOfMemory, int? ExitCode, string? StderrTail, bool ProcessLimitReached = false);
