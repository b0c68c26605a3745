;; Tern "hello" example as a WASI preview1 module (hand-written WAT, no libc).
;; argv[1] is the absolute event path; its directory is preopened as fd 3, so the file is opened
;; relative to fd 3 by its basename. JSON is not really parsed: the raw (still JSON-escaped)
;; "name" string is copied into the output. Limitations: a "name"/"fail" key inside a nested
;; object or a string value may match too; events larger than ~56 KiB are truncated.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  ;; Memory map: 0 argc | 4 argv_buf_size | 8 opened fd | 12 nread/nwritten | 16 iovec | 24 name (pointer, length)
  ;; 256 constants | 1024 argv pointers (max 256) | 2048 argv strings (max 6 KiB)
  ;; 8192..65535 event file contents
  (memory (export "memory") 1)
  (data (i32.const 256) "{\"message\":\"Hello, ")      ;; 19 bytes
  (data (i32.const 288) "!\",\"runtime\":\"wasm\"}\n")  ;; 21 bytes
  (data (i32.const 320) "world")                        ;; 5 bytes
  (data (i32.const 328) "\"name\"")                     ;; 6 bytes
  (data (i32.const 336) "\"fail\"")                     ;; 6 bytes
  (data (i32.const 344) "true")                         ;; 4 bytes
  (data (i32.const 352) "boom: requested failure\n")    ;; 24 bytes
  (data (i32.const 384) "boom: cannot read event file\n") ;; 29 bytes

  ;; Write len bytes at p to fd, all of them: fd_write may write less than asked (Wasmtime writes one iovec per
  ;; call), so loop on the count it reports, as any POSIX write must.
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

  ;; Write a message to stderr and exit 1.
  (func $die (param $msg i32) (param $len i32)
    (call $write_all (i32.const 2) (local.get $msg) (local.get $len))
    (call $proc_exit (i32.const 1)))

  (func $die_read (call $die (i32.const 384) (i32.const 29)))

  (func $strlen (param $p i32) (result i32) (local $q i32)
    (local.set $q (local.get $p))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (local.get $q))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $next)))
    (i32.sub (local.get $q) (local.get $p)))

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

  ;; First address >= p where bytes [p, p+n) equal needle s, or 0.
  (func $find (param $p i32) (param $end i32) (param $s i32) (param $n i32) (result i32)
    (loop $next
      (if (i32.gt_u (i32.add (local.get $p) (local.get $n)) (local.get $end))
        (then (return (i32.const 0))))
      (if (call $memeq (local.get $p) (local.get $s) (local.get $n))
        (then (return (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $next))
    (i32.const 0))

  ;; Skip whitespace (any byte <= ' ').
  (func $skip_ws (param $p i32) (param $end i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $done (i32.gt_u (i32.load8_u (local.get $p)) (i32.const 32)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  ;; Address of the value after the first `key :` in [p, end), or 0.
  (func $value_of (param $key i32) (param $klen i32) (param $p i32) (param $end i32) (result i32)
    (local $v i32)
    (loop $next
      (local.set $p (call $find (local.get $p) (local.get $end) (local.get $key) (local.get $klen)))
      (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))
      (local.set $v (call $skip_ws (i32.add (local.get $p) (local.get $klen)) (local.get $end)))
      (if (i32.lt_u (local.get $v) (local.get $end))
        (then (if (i32.eq (i32.load8_u (local.get $v)) (i32.const 58)) ;; ':'
          (then (return (call $skip_ws (i32.add (local.get $v) (i32.const 1)) (local.get $end)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $next))
    (i32.const 0))

  (func (export "_start")
    (local $path i32) (local $len i32) (local $i i32) (local $end i32) (local $v i32) (local $q i32)
    ;; argv[1]
    (if (call $args_sizes_get (i32.const 0) (i32.const 4)) (then (call $die_read)))
    (if (i32.lt_u (i32.load (i32.const 0)) (i32.const 2)) (then (call $die_read)))
    (if (i32.gt_u (i32.load (i32.const 0)) (i32.const 256)) (then (call $die_read)))
    (if (i32.gt_u (i32.load (i32.const 4)) (i32.const 6144)) (then (call $die_read)))
    (if (call $args_get (i32.const 1024) (i32.const 2048)) (then (call $die_read)))
    (local.set $path (i32.load (i32.const 1028)))
    (local.set $len (call $strlen (local.get $path)))

    ;; basename: the part after the last '/'
    (local.set $i (local.get $len))
    (block $found
      (loop $next
        (br_if $found (i32.eqz (local.get $i)))
        (br_if $found (i32.eq (i32.load8_u (i32.sub (i32.add (local.get $path) (local.get $i)) (i32.const 1)))
                              (i32.const 47)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $next)))

    ;; open it read-only (rights: FD_READ) relative to the preopened directory, fd 3
    (if (call $path_open (i32.const 3) (i32.const 1)
              (i32.add (local.get $path) (local.get $i)) (i32.sub (local.get $len) (local.get $i))
              (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 8))
      (then (call $die_read)))

    ;; read the whole file into [8192, end)
    (local.set $end (i32.const 8192))
    (block $eof
      (loop $next
        (i32.store (i32.const 16) (local.get $end))
        (i32.store (i32.const 20) (i32.sub (i32.const 65535) (local.get $end)))
        (br_if $eof (i32.eqz (i32.load (i32.const 20))))
        (if (call $fd_read (i32.load (i32.const 8)) (i32.const 16) (i32.const 1) (i32.const 12))
          (then (call $die_read)))
        (br_if $eof (i32.eqz (i32.load (i32.const 12))))
        (local.set $end (i32.add (local.get $end) (i32.load (i32.const 12))))
        (br $next)))

    ;; "fail": true -> boom
    (local.set $v (call $value_of (i32.const 336) (i32.const 6) (i32.const 8192) (local.get $end)))
    (if (local.get $v)
      (then (if (i32.le_u (i32.add (local.get $v) (i32.const 4)) (local.get $end))
        (then (if (call $memeq (local.get $v) (i32.const 344) (i32.const 4))
          (then (call $die (i32.const 352) (i32.const 24))))))))

    ;; name (at 24/28): the raw string after "name": if present, else "world"
    (i32.store (i32.const 24) (i32.const 320))
    (i32.store (i32.const 28) (i32.const 5))
    (local.set $v (call $value_of (i32.const 328) (i32.const 6) (i32.const 8192) (local.get $end)))
    (if (i32.and (i32.ne (local.get $v) (i32.const 0)) (i32.lt_u (local.get $v) (local.get $end)))
      (then (if (i32.eq (i32.load8_u (local.get $v)) (i32.const 34)) ;; '"'
        (then
          (local.set $q (i32.add (local.get $v) (i32.const 1)))
          (block $bad
            (loop $next
              (br_if $bad (i32.ge_u (local.get $q) (local.get $end)))
              (if (i32.eq (i32.load8_u (local.get $q)) (i32.const 34))
                (then
                  (i32.store (i32.const 24) (i32.add (local.get $v) (i32.const 1)))
                  (i32.store (i32.const 28) (i32.sub (local.get $q) (i32.add (local.get $v) (i32.const 1))))
                  (br $bad)))
              ;; skip the escaped character after a backslash
              (local.set $q (i32.add (local.get $q)
                (select (i32.const 2) (i32.const 1) (i32.eq (i32.load8_u (local.get $q)) (i32.const 92)))))
              (br $next)))))))

    ;; stdout: prefix, name, suffix
    (call $write_all (i32.const 1) (i32.const 256) (i32.const 19))
    (call $write_all (i32.const 1) (i32.load (i32.const 24)) (i32.load (i32.const 28)))
    (call $write_all (i32.const 1) (i32.const 288) (i32.const 21)))
)
