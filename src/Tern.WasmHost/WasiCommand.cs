using System.Globalization;
using Wasmtime;

namespace Tern.WasmHost;

/// <summary>Runs a WASI preview1 command module once: instantiate, call _start, turn how it ended into an exit code.
/// Process mode gives it argv [MODULE, EVENT_PATH] with the event file's directory preopened read-only under its own
/// path; --stdio gives it argv [MODULE] and no preopens. Either way stdin, stdout and stderr are the process's own and
/// the environment is the one the agent built for the handler (the process's, or the one a zygote was sent).</summary>
internal static class WasiCommand
{
    /// <summary>The exit code of a call stopped at its deadline (as coreutils' timeout uses); the wasm runtime's entry in
    /// the catalog tells the agent to report it as a timeout.</summary>
    public const int TimedOutExitCode = 124;

    /// <summary>Process mode: the agent puts the call's deadline (Unix epoch milliseconds) here.</summary>
    public const string DeadlineVariable = "TERN_DEADLINE_MS";

    /// <summary>A linker with WASI defined: the same for every module, so a zygote makes it before its command comes.</summary>
    public static Linker NewLinker(Engine engine)
    {
        var linker = new Linker(engine);
        linker.DefineWasi();
        return linker;
    }

    /// <summary>Runs the module and returns its exit code; with <see cref="HostArguments.ReportEndToken"/> it does not
    /// return but reports the end and exits (<see cref="EndReport"/>), before anything is torn down.</summary>
    public static int Run(Engine engine, Linker linker, Module module, HostArguments args)
    {
        using var store = new Store(engine);
        store.SetLimits(memorySize: args.MemoryBytes);
        store.SetWasiConfiguration(Wasi(args));

        // Epoch interruption: compiled code checks the engine's epoch at loop heads and calls; one increment at the
        // deadline makes the module trap there (a deadline of one tick). No deadline: never.
        var deadline = Deadline(args);
        store.SetEpochDeadline(deadline is null ? ulong.MaxValue : 1);
        using var timer = deadline is { } due ? new Timer(_ => engine.IncrementEpoch(), null, Max(due, TimeSpan.Zero), Timeout.InfiniteTimeSpan) : null;

        Instance instance;
        try
        {
            instance = linker.Instantiate(store, module);
        }
        catch (WasmtimeException e)
        {
            throw new ModuleLoadException($"cannot instantiate the module: {OneLine(e.Message)}");
        }
        var start = instance.GetAction("_start")
            ?? throw new ModuleLoadException("the module exports no _start function (a WASI command module is required)");
        var exitCode = Call(start, deadline is not null);
        if (args.ReportEndToken is { } token) EndReport.WriteAndExit(token, exitCode);
        return exitCode;
    }

    private static int Call(Action start, bool hasDeadline)
    {
        try
        {
            start();
            return 0;
        }
        catch (WasmtimeException e) when (e.ExitCode is { } code)
        {
            return code; // proc_exit
        }
        catch (TrapException e) when (e.Type == TrapCode.Interrupt && hasDeadline)
        {
            Console.Error.WriteLine("tern-wasm-host: the module was interrupted at the call's deadline");
            return TimedOutExitCode;
        }
        catch (WasmtimeException e)
        {
            Console.Error.WriteLine($"tern-wasm-host: {e.Message.TrimEnd()}");
            return 1;
        }
    }

    private static WasiConfiguration Wasi(HostArguments args)
    {
        var name = Path.GetFileName(args.ModulePath);
        var wasi = new WasiConfiguration()
            .WithInheritedStandardInput().WithInheritedStandardOutput().WithInheritedStandardError();
        // A zygote's module gets the environment it was sent; a plain start's, the process's own.
        wasi = args.Environment is { } env ? wasi.WithEnvironmentVariables(env.Select(e => (e.Key, e.Value))) : wasi.WithInheritedEnvironment();
        if (args.EventPath is null) return wasi.WithArgs(name);
        var eventPath = Path.GetFullPath(args.EventPath);
        var eventDir = Path.GetDirectoryName(eventPath)!;
        return wasi.WithArgs(name, eventPath).WithPreopenedDirectory(eventDir, eventDir, mutable: false);
    }

    /// <summary>Time left until the call's deadline, when the agent gave one.</summary>
    private static TimeSpan? Deadline(HostArguments args)
    {
        var text = args.Variable(DeadlineVariable);
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var deadlineMs)) return null;
        return TimeSpan.FromMilliseconds(deadlineMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Wasmtime's messages span lines (causes, byte dumps): one line for the caller's error message.</summary>
    public static string OneLine(string text) => string.Join(' ', text.Split((char[])['\n', '\r', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
}
