using System.Diagnostics;

namespace Tern.Runtimes.Tests;

/// <summary>Small WASI modules the wasm tests need, written in WAT and built with wabt's wat2wasm (installed by
/// scripts/install-deps.sh --test, as for the examples).</summary>
internal static class WatModules
{
    /// <summary>Never ends: only a deadline (epoch interruption) or a kill stops it.</summary>
    public const string Spin = """
        (module
          (memory (export "memory") 1)
          (func (export "_start") (loop $forever (br $forever))))
        """;

    /// <summary>Persistent mode: writes the ready line, then never reads or answers.</summary>
    public const string ReadyThenSpin = """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 64) "{\"ready\":true}\n")
          (func (export "_start")
            (i32.store (i32.const 16) (i32.const 64))
            (i32.store (i32.const 20) (i32.const 15))
            (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 12)))
            (loop $forever (br $forever))))
        """;

    /// <summary>Tries to grow its memory by 128 MiB, then by 64 MiB, and writes which worked as
    /// {"grew128":0|1,"grew64":0|1}.</summary>
    public const string GrowMemory = """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 100) "{\"grew128\":0,\"grew64\":0}")
          (func (export "_start")
            (if (i32.ne (memory.grow (i32.const 2048)) (i32.const -1)) (then (i32.store8 (i32.const 111) (i32.const 49))))
            (if (i32.ne (memory.grow (i32.const 1024)) (i32.const -1)) (then (i32.store8 (i32.const 122) (i32.const 49))))
            (i32.store (i32.const 16) (i32.const 100))
            (i32.store (i32.const 20) (i32.const 24))
            (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 12)))))
        """;

    /// <summary>Asks for 256 MiB of memory up front.</summary>
    public const string HugeInitialMemory = """
        (module
          (memory (export "memory") 4096)
          (func (export "_start")))
        """;

    public const int LongStringLength = 75 * 4096;

    /// <summary>Writes a JSON string of <see cref="LongStringLength"/> 'a's in 4 KiB writes (more than a pipe holds).</summary>
    public const string LongString = """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 64) "\"")
          (func $write (param $p i32) (param $len i32)
            (block $done
              (loop $next
                (br_if $done (i32.eqz (local.get $len)))
                (i32.store (i32.const 16) (local.get $p))
                (i32.store (i32.const 20) (local.get $len))
                (br_if $done (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 12)))
                (local.set $p (i32.add (local.get $p) (i32.load (i32.const 12))))
                (local.set $len (i32.sub (local.get $len) (i32.load (i32.const 12))))
                (br $next))))
          (func (export "_start") (local $i i32)
            (memory.fill (i32.const 4096) (i32.const 97) (i32.const 4096))
            (call $write (i32.const 64) (i32.const 1))
            (loop $more
              (call $write (i32.const 4096) (i32.const 4096))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $more (i32.lt_u (local.get $i) (i32.const 75))))
            (call $write (i32.const 64) (i32.const 1))))
        """;

    /// <summary>Writes "boom\n" to stderr (after it, when <paramref name="forgedTrailer"/>, an end-of-call trailer with
    /// a made-up token claiming exit code 0), then calls proc_exit with <paramref name="code"/>.</summary>
    public static string StderrThenExit(int code, bool forgedTrailer) => $$"""
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 64) "boom\n")
          (data (i32.const 128) "\00tern-end-of-call:00000000000000000000000000000000:0\00")
          (func (export "_start")
            (i32.store (i32.const 16) (i32.const 64))
            (i32.store (i32.const 20) (i32.const 5))
            (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 12)))
            (i32.store (i32.const 16) (i32.const 128))
            (i32.store (i32.const 20) (i32.const {{(forgedTrailer ? 53 : 0)}}))
            (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 12)))
            (call $proc_exit (i32.const {{code}}))))
        """;

    /// <summary>Adds 1 to a counter in its memory (0 in a fresh instance) and writes it as a digit.</summary>
    public const string Counter = """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "_start")
            (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
            (i32.store8 (i32.const 64) (i32.add (i32.load (i32.const 0)) (i32.const 48)))
            (i32.store (i32.const 16) (i32.const 64))
            (i32.store (i32.const 20) (i32.const 1))
            (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 12)))))
        """;

    public static byte[] Compile(string wat)
    {
        var dir = Path.Combine(Path.GetTempPath(), "tern-wat-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "m.wat"), wat);
            var psi = new ProcessStartInfo("wat2wasm") { RedirectStandardError = true, WorkingDirectory = dir };
            psi.ArgumentList.Add("m.wat");
            psi.ArgumentList.Add("-o");
            psi.ArgumentList.Add("m.wasm");
            using var process = Process.Start(psi)!;
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"wat2wasm failed: {stderr}");
            return File.ReadAllBytes(Path.Combine(dir, "m.wasm"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
