// The wasm runtime before issue 12 (Node 20's WASI), kept only as the benchmark's baseline: bench/Tern.Bench/WasmBench.cs
// runs it as a "binary" function whose bootstrap execs node on it.
// Runs a WASI preview1 module.
// Process mode:
//   node --no-warnings wasi-runner.mjs MODULE.wasm EVENT_PATH
// The module sees argv ["MODULE.wasm", EVENT_PATH] and the event file's directory preopened
// (fd 3) under its own absolute path. Exits with the module's exit code.
// Persistent mode:
//   node --no-warnings wasi-runner.mjs --stdio MODULE.wasm
// The module sees argv ["MODULE.wasm"], no preopens, and the process's stdin/stdout/stderr as fds 0/1/2:
// it speaks Tern's line protocol itself (docs/persistent-mode.md).
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import process from 'node:process';
import { WASI } from 'node:wasi';

const argv = process.argv.slice(2);
const stdio = argv[0] === '--stdio';
if (stdio) argv.shift();
const [modulePath, eventArg] = argv;
if (!modulePath || (!stdio && !eventArg)) {
  process.stderr.write('usage: wasi-runner.mjs MODULE.wasm EVENT_PATH | wasi-runner.mjs --stdio MODULE.wasm\n');
  process.exit(2);
}

let options;
if (stdio) {
  options = { version: 'preview1', args: [basename(modulePath)], env: {}, returnOnExit: true };
} else {
  const eventPath = resolve(eventArg);
  const eventDir = dirname(eventPath);
  options = {
    version: 'preview1',
    args: [basename(modulePath), eventPath],
    env: {},
    preopens: { [eventDir]: eventDir },
    returnOnExit: true,
  };
}
const wasi = new WASI(options);

try {
  const module = await WebAssembly.compile(await readFile(modulePath));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  process.exitCode = wasi.start(instance) ?? 0;
} catch (err) {
  process.stderr.write(`wasi-runner: ${err?.message ?? err}\n`);
  process.exitCode = 1;
}
