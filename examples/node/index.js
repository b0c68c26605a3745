'use strict';
const fs = require('node:fs');

function handler(event) {
  if (event.fail === true) throw new Error('requested failure');
  return { message: `Hello, ${event.name ?? 'world'}!`, runtime: 'node' };
}

try {
  const event = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  process.stdout.write(JSON.stringify(handler(event)) + '\n');
} catch (err) {
  process.stderr.write(`boom: ${err.message}\n`);
  process.exitCode = 1;
}
