// An AWS Lambda-style Node.js handler, unmodified: Tern runs it in persistent mode with handler "index.handler".
// The module is loaded once per worker, and calls may overlap (instanceConcurrency > 1).
let calls = 0;

exports.handler = async (event, context) => {
  calls += 1;
  if (event && event.fail) throw new Error('boom: requested failure');
  console.log('greeting', event && event.name); // goes to stderr: stdout belongs to the protocol
  const name = (event && event.name) || 'world';
  return {
    statusCode: 200,
    body: JSON.stringify({ message: `Hello, ${name}!` }),
    message: `Hello, ${name}!`,
    runtime: 'node',
    requestId: context.awsRequestId,
    memoryLimitInMB: context.memoryLimitInMB,
    remainingMs: context.getRemainingTimeInMillis(),
    calls,
  };
};

// The callback style works too: handler "index.callbackHandler".
exports.callbackHandler = (event, context, callback) => {
  setTimeout(() => callback(null, { message: `Hello, ${(event && event.name) || 'world'}!`, runtime: 'node', style: 'callback' }), 5);
};
