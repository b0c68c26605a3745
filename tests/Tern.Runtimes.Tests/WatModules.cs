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
