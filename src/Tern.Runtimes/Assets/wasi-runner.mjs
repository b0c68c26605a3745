// Runs a WASI preview1 module in process mode:
//   node --no-warnings wasi-runner.mjs MODULE.wasm EVENT_PATH
// The module sees argv ["MODULE.wasm", EVENT_PATH] and the event file's directory preopened
// (fd 3) under its own absolute path. Exits with the module's exit code.
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import process from 'node:process';
import { WASI } from 'node:wasi';

const [modulePath, eventArg] = process.argv.slice(2);
if (!modulePath || !eventArg) {
  process.stderr.write('usage: wasi-runner.mjs MODULE.wasm EVENT_PATH\n');
  process.exit(2);
}

const eventPath = resolve(eventArg);
const eventDir = dirname(eventPath);
const wasi = new WASI({
  version: 'preview1',
  args: [basename(modulePath), eventPath],
  env: {},
  preopens: { [eventDir]: eventDir },
  returnOnExit: true,
});

try {
  const module = await WebAssembly.compile(await readFile(modulePath));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  process.exitCode = wasi.start(instance) ?? 0;
} catch (err) {
  process.stderr.write(`wasi-runner: ${err?.message ?? err}\n`);
  process.exitCode = 1;
}
