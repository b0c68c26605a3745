'use strict';
// Tern persistent-mode bootstrap for Node.js.
//
//   /usr/bin/node bootstrap.js MODULE.FUNCTION
//
// Loads the handler once (AWS Lambda style: "index.handler" loads /code/index.js, .mjs or .cjs and takes its
// "handler" export), then serves calls over Tern's line protocol (docs/persistent-mode.md): one JSON request per
// stdin line, one JSON answer per stdout line, matched by requestId. Calls run concurrently (the function's
// instanceConcurrency bounds how many the agent sends at once). Handlers may be async, return a promise, or take
// Lambda's callback (event, context, callback). The user's console output goes to stderr; fd 1 is the protocol's.

const fs = require('node:fs');
const path = require('node:path');
const { Console } = require('node:console');
const { pathToFileURL } = require('node:url');

const CODE_DIR = '/code';
const PROTOCOL_FD = 1;
const handlerName = process.argv[2] || process.env.TERN_HANDLER || '';

// Nothing but protocol lines may reach fd 1: send console.log & co. and process.stdout to stderr.
// fd 1 itself is never wrapped in a stream, so it stays a blocking pipe written with fs.writeSync.
const errConsole = new Console({ stdout: process.stderr, stderr: process.stderr });
for (const key of Object.keys(errConsole)) {
  if (typeof errConsole[key] === 'function') console[key] = errConsole[key];
}
Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => process.stderr });

const pause = new Int32Array(new SharedArrayBuffer(4));
function send(message) {
  writeLine(JSON.stringify(message));
}

function writeLine(text) {
  const bytes = Buffer.from(text + '\n', 'utf8');
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += fs.writeSync(PROTOCOL_FD, bytes, offset, bytes.length - offset);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

class HandlerNotFound extends Error {
  constructor(message) { super(message); this.name = 'Runtime.HandlerNotFound'; }
}
class ImportModuleError extends Error {
  constructor(message) { super(message); this.name = 'Runtime.ImportModuleError'; }
}

// "dir/index.handler" -> module /code/dir/index, export path "handler" (Lambda splits at the first dot after the
// last slash, so "index.nested.handler" is index's nested.handler).
async function loadHandler(name) {
  const slash = name.lastIndexOf('/');
  const base = name.slice(slash + 1);
  const dot = base.indexOf('.');
  if (dot <= 0 || dot === base.length - 1) {
    throw new HandlerNotFound(`Bad handler '${name}': expected module.function, e.g. index.handler`);
  }
  const modulePath = path.resolve(CODE_DIR, name.slice(0, slash + 1) + base.slice(0, dot));
  const exportPath = base.slice(dot + 1).split('.');

  const file = ['.js', '.mjs', '.cjs'].map((ext) => modulePath + ext).find((f) => fs.existsSync(f));
  if (!file) throw new ImportModuleError(`Cannot find module '${path.relative(CODE_DIR, modulePath)}' (.js, .mjs or .cjs) in ${CODE_DIR}`);
  let mod;
  if (file.endsWith('.mjs')) {
    mod = await import(pathToFileURL(file).href);
  } else {
    try {
      mod = require(file);
    } catch (e) {
      if (e.code !== 'ERR_REQUIRE_ESM') throw e;
      mod = await import(pathToFileURL(file).href); // a .js file in a "type": "module" package
    }
  }
  const find = (root) => exportPath.reduce((o, key) => (o == null ? undefined : o[key]), root);
  let fn = find(mod);
  if (typeof fn !== 'function' && mod && mod.default) fn = find(mod.default);
  if (typeof fn !== 'function') {
    throw new HandlerNotFound(`${path.basename(modulePath)}.${exportPath.join('.')} is undefined or not exported`);
  }
  return fn;
}

function makeContext(c, deadlineMs) {
  const name = String(c.functionName ?? process.env.TERN_FUNCTION_NAME ?? '');
  const version = String(c.functionVersion ?? process.env.TERN_FUNCTION_VERSION ?? '');
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  return {
    awsRequestId: String(c.requestId ?? ''),
    functionName: name,
    functionVersion: version,
    memoryLimitInMB: String(c.memoryLimitMb ?? process.env.TERN_MEMORY_MB ?? ''), // a string, as in Lambda
    invokedFunctionArn: `arn:tern:function:${name}:${version}`,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME || `/tern/function/${name}`,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME || `${day}/[${version}]${process.pid}`,
    traceId: c.traceId ?? undefined,
    traceParent: c.traceParent ?? undefined,
    identity: undefined,
    clientContext: undefined,
    // Accepted for compatibility; the process lives on between calls, so there is nothing to wait for.
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
  };
}

// The call's result: whichever comes first of the callback (or context.succeed/fail/done) and the returned promise.
// A plain (non-promise) return value counts unless the handler declares the callback parameter.
function invoke(fn, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err);
      else resolve(result);
    };
    const callback = (err, result) => finish(err, result);
    context.succeed = (result) => finish(null, result);
    context.fail = (err) => finish(err ?? new Error('handler failed'));
    context.done = (err, result) => finish(err, result);
    let returned;
    try {
      returned = fn(event, context, callback);
    } catch (e) {
      finish(e ?? new Error('handler threw'));
      return;
    }
    if (returned && typeof returned.then === 'function') {
      returned.then((result) => finish(null, result), (e) => finish(e ?? new Error('handler rejected')));
    } else if (fn.length < 3) {
      finish(null, returned);
    }
  });
}

// The frames of the user's code: the stack without its "Type: message" header (the agent puts that first, and it
// was printed twice), cut at the first frame of this bootstrap, without Node's internal frames.
function userFrames(stack) {
  const frames = [];
  for (const line of String(stack ?? '').split('\n')) {
    if (!/^\s+at /.test(line)) {
      if (frames.length > 0) break; // the header comes first; anything after the frames is not a frame
      continue;
    }
    if (line.includes(__filename)) break;
    if (/[( ]node:internal\//.test(line)) continue;
    frames.push(line);
  }
  return frames;
}

function describe(err) {
  if (err instanceof Error) {
    const frames = userFrames(err.stack);
    return {
      type: err.name || err.constructor?.name || 'Error', message: String(err.message ?? ''),
      stack: frames.join('\n'), stackTrace: frames,
    };
  }
  if (err && typeof err === 'object') {
    return { type: String(err.errorType ?? err.name ?? 'Error'), message: String(err.errorMessage ?? err.message ?? JSON.stringify(err)) };
  }
  return { type: typeof err, message: String(err) };
}

async function serve(fn, line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (e) {
    console.error(`tern bootstrap: unreadable request line: ${e.message}`);
    return;
  }
  const requestId = request.requestId;
  const c = request.context || {};
  const context = makeContext(c, Number(c.deadlineMs) || 0);
  if (c.traceId) process.env._X_AMZN_TRACE_ID = c.traceId;
  let result;
  try {
    result = await invoke(fn, request.event, context);
  } catch (e) {
    console.error(e);
    send({ requestId, error: describe(e) });
    return;
  }
  let output;
  try {
    output = JSON.stringify(result === undefined ? null : result);
  } catch (e) {
    send({ requestId, error: { type: 'Runtime.MarshalError', message: `Unable to marshal response: ${e.message}` } });
    return;
  }
  // The output is already JSON: splice it in rather than parse and serialise it again.
  writeLine(`{"requestId":${JSON.stringify(requestId)},"output":${output ?? 'null'}}`);
}

async function main() {
  if (process.env.AWS_EXECUTION_ENV === 'AWS_Lambda_nodejs') { // the agent's; Lambda's names carry the version
    process.env.AWS_EXECUTION_ENV = `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`;
  }
  let fn;
  try {
    fn = await loadHandler(handlerName);
  } catch (e) {
    console.error(e);
    send({ ready: false, error: { type: e?.name || 'Error', message: String(e?.message ?? e) } });
    process.exit(1);
  }
  send({ ready: true });

  let parts = []; // the current line's pieces: a big event arrives in many chunks
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    let start = 0;
    let newline;
    while ((newline = chunk.indexOf('\n', start)) >= 0) {
      parts.push(chunk.slice(start, newline));
      const line = parts.join('');
      parts = [];
      if (line.trim()) serve(fn, line);
      start = newline + 1;
    }
    if (start < chunk.length) parts.push(chunk.slice(start));
  });
  process.stdin.on('end', () => process.exit(0));
}

main();
