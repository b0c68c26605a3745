;; The zygote's prewarm module (Prewarm.cs holds it as bytes, from `wat2wasm prewarm.wat`; a test checks they match).
;; _start: fd_fdstat_get on stdout, then read_event. read_event: opens event.json in the preopened directory (fd 3)
;; and reads it, as a process-mode handler reads its event: WASI runs path_open and fd_read on its blocking pool.
(module
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "event.json")
  (func $read_event (export "read_event")
    (if (i32.eqz (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 10) (i32.const 0)
                                  (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 8)))
      (then
        (i32.store (i32.const 16) (i32.const 128))
        (i32.store (i32.const 20) (i32.const 256))
        (drop (call $fd_read (i32.load (i32.const 8)) (i32.const 16) (i32.const 1) (i32.const 12)))
        (drop (call $fd_close (i32.load (i32.const 8)))))))
  (func (export "_start")
    (drop (call $fdstat (i32.const 1) (i32.const 512)))
    (call $read_event)))
