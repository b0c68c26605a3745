namespace Tern.Drivers;

/// <param name="OutOfMemory">The worker hit its memory limit and the kernel killed something in it.</param>
/// <param name="StderrTail">The last lines the worker itself (not the handler) printed, for start-up failures.</param>
public sealed record WorkerDiagnostics(bool OutOfMemory, int? ExitCode, string? StderrTail);
