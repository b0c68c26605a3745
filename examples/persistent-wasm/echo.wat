;; Tern persistent-mode example as a WASI preview1 module (hand-written WAT, no libc): it speaks the line protocol
;; (docs/persistent-mode.md) on its own stdin/stdout and answers each request with its event:
;;   -> {"requestId":"ID","event":EVENT,"context":{...}}
;;   <- {"requestId":"ID","output":EVENT}
;; It relies on the protocol's field order (requestId first, then event, then context) instead of parsing JSON: the
;; event is everything between ,"event": and the last ,"context":{ on the line. Lines up to 960 KiB. A read that
;; finds no data yet (EAGAIN: some WASI hosts, Node's among them, make stdin non-blocking) waits in poll_oneoff.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))

  ;; Memory map: 12 nread/nwritten | 16 iovec | 64.. constants | 256 a poll subscription (48 bytes) | 320 its event (32)
;; | 360 nevents | 65536.. the input buffer (960 KiB)
  (memory (export "memory") 16)
  (data (i32.const 64) "{\"ready\":true}\n")      ;; 15 bytes
  (data (i32.const 96) "{\"requestId\":\"")       ;; 14 bytes
  (data (i32.const 128) "\",\"output\":")         ;; 11 bytes
  (data (i32.const 144) "}\n")                    ;; 2 bytes
  (data (i32.const 160) ",\"context\":{")         ;; 12 bytes
  (data (i32.const 176) "\",\"event\":")          ;; 10 bytes
  (data (i32.const 192) "echo: not a request line\n")  ;; 25 bytes
  (data (i32.const 224) "echo: request line too long\n") ;; 28 bytes

  (global $buf i32 (i32.const 65536))
  (global $cap i32 (i32.const 983040))

  ;; Write all len bytes at p to fd (fd_write may write less than asked).
  (func $write_all (param $fd i32) (param $p i32) (param $len i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $len)))
        (i32.store (i32.const 16) (local.get $p))
        (i32.store (i32.const 20) (local.get $len))
        (br_if $done (call $fd_write (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 12)))
        (br_if $done (i32.eqz (i32.load (i32.const 12))))
        (local.set $p (i32.add (local.get $p) (i32.load (i32.const 12))))
        (local.set $len (i32.sub (local.get $len) (i32.load (i32.const 12))))
        (br $next))))

  ;; Blocks until stdin is readable: one fd_read subscription (userdata 0, tag 1 at +8, fd 0 at +16).
  (func $wait_stdin
    (i64.store (i32.const 256) (i64.const 0))
    (i64.store (i32.const 264) (i64.const 1))
    (i64.store (i32.const 272) (i64.const 0))
    (drop (call $poll_oneoff (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 360))))

  ;; 1 if the n bytes at a and b are equal.
  (func $memeq (param $a i32) (param $b i32) (param $n i32) (result i32)
    (loop $next
      (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
      (if (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b)))
        (then (return (i32.const 0))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next))
    (i32.const 0))

  ;; Answers the request line [p, p+n) (without its newline).
  (func $answer (param $p i32) (param $n i32)
    (local $end i32) (local $id i32) (local $q i32) (local $event i32) (local $ctx i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $bad
      (br_if $bad (i32.lt_u (local.get $n) (i32.const 14)))
      (br_if $bad (i32.eqz (call $memeq (local.get $p) (i32.const 96) (i32.const 14))))
      ;; the id: up to the next quote (ids never hold escapes)
      (local.set $id (i32.add (local.get $p) (i32.const 14)))
      (local.set $q (local.get $id))
      (block $found
        (loop $next
          (br_if $bad (i32.ge_u (local.get $q) (local.get $end)))
          (br_if $found (i32.eq (i32.load8_u (local.get $q)) (i32.const 34)))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br $next)))
      (br_if $bad (i32.gt_u (i32.add (local.get $q) (i32.const 10)) (local.get $end)))
      (br_if $bad (i32.eqz (call $memeq (local.get $q) (i32.const 176) (i32.const 10))))
      (local.set $event (i32.add (local.get $q) (i32.const 10)))
      ;; the event ends at the last ,"context":{
      (local.set $ctx (i32.sub (local.get $end) (i32.const 12)))
      (block $ctx_found
        (loop $back
          (br_if $bad (i32.lt_s (local.get $ctx) (local.get $event)))
          (br_if $ctx_found (call $memeq (local.get $ctx) (i32.const 160) (i32.const 12)))
          (local.set $ctx (i32.sub (local.get $ctx) (i32.const 1)))
          (br $back)))
      (call $write_all (i32.const 1) (i32.const 96) (i32.const 14))
      (call $write_all (i32.const 1) (local.get $id) (i32.sub (local.get $q) (local.get $id)))
      (call $write_all (i32.const 1) (i32.const 128) (i32.const 11))
      (call $write_all (i32.const 1) (local.get $event) (i32.sub (local.get $ctx) (local.get $event)))
      (call $write_all (i32.const 1) (i32.const 144) (i32.const 2))
      (return))
    (call $write_all (i32.const 2) (i32.const 192) (i32.const 25)))

  (func (export "_start")
    (local $len i32) (local $scan i32) (local $nl i32) (local $rest i32) (local $i i32) (local $err i32)
    (call $write_all (i32.const 1) (i32.const 64) (i32.const 15))
    (loop $next
      ;; a whole line in the buffer? answer it and move what follows to the front
      (local.set $nl (i32.add (global.get $buf) (local.get $scan)))
      (block $no_line
        (loop $find
          (br_if $no_line (i32.ge_u (local.get $nl) (i32.add (global.get $buf) (local.get $len))))
          (if (i32.eq (i32.load8_u (local.get $nl)) (i32.const 10))
            (then
              (call $answer (global.get $buf) (i32.sub (local.get $nl) (global.get $buf)))
              (local.set $rest (i32.sub (i32.add (global.get $buf) (local.get $len)) (i32.add (local.get $nl) (i32.const 1))))
              (local.set $i (i32.const 0))
              (block $copied
                (loop $copy
                  (br_if $copied (i32.ge_u (local.get $i) (local.get $rest)))
                  (i32.store8 (i32.add (global.get $buf) (local.get $i))
                    (i32.load8_u (i32.add (i32.add (local.get $nl) (i32.const 1)) (local.get $i))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br $copy)))
              (local.set $len (local.get $rest))
              (local.set $scan (i32.const 0))
              (br $next)))
          (local.set $nl (i32.add (local.get $nl) (i32.const 1)))
          (br $find)))
      (local.set $scan (local.get $len))
      (if (i32.ge_u (local.get $len) (global.get $cap))
        (then
          (call $write_all (i32.const 2) (i32.const 224) (i32.const 28))
          (call $proc_exit (i32.const 1))))
      ;; read more; end of input (the worker is going away) ends the module
      (i32.store (i32.const 16) (i32.add (global.get $buf) (local.get $len)))
      (i32.store (i32.const 20) (i32.sub (global.get $cap) (local.get $len)))
      (local.set $err (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 12)))
      (if (i32.eq (local.get $err) (i32.const 6)) ;; EAGAIN
        (then
          (call $wait_stdin)
          (br $next)))
      (if (local.get $err) (then (return)))
      (if (i32.eqz (i32.load (i32.const 12))) (then (return)))
      (local.set $len (i32.add (local.get $len) (i32.load (i32.const 12))))
      (br $next)))
)
