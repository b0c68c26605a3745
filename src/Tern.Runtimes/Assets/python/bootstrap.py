"""Tern persistent-mode bootstrap for Python.

    /usr/bin/python3 -u bootstrap.py MODULE.FUNCTION

Loads the handler once (AWS Lambda style: "lambda_function.lambda_handler" imports lambda_function from /code and
calls its lambda_handler(event, context)), then serves calls over Tern's line protocol (docs/persistent-mode.md):
one JSON request per stdin line, one JSON answer per stdout line, one call at a time. The user's own prints go to
stderr: the protocol keeps a private copy of the original stdout.
"""
import datetime
import importlib
import json
import os
import sys
import time
import traceback

CODE_DIR = "/code"


def _protocol_streams():
    """Keeps private copies of stdin/stdout for the protocol; fd 1 becomes stderr and fd 0 /dev/null for user code
    (and for any process it starts), so nothing it prints or reads can break the protocol."""
    proto_in = os.dup(0)
    proto_out = os.dup(1)  # os.dup makes non-inheritable copies: child processes do not get them
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return os.fdopen(proto_in, "rb"), os.fdopen(proto_out, "wb")


class LambdaContext:
    """The context object of an AWS Lambda Python handler (same attribute names), plus trace_id. What is the same for
    every call of this process (names, ARN, log stream) is worked out once: this runs on every call."""

    _static = {}

    def __init__(self, ctx):
        self.aws_request_id = ctx.get("requestId") or ""
        key = (ctx.get("functionName"), ctx.get("functionVersion"), ctx.get("memoryLimitMb"))
        static = LambdaContext._static.get(key)
        if static is None:
            static = LambdaContext._static[key] = _static_context(*key)
        self.__dict__.update(static)
        self.trace_id = ctx.get("traceId")
        self.trace_parent = ctx.get("traceParent")  # W3C traceparent of the call, when the caller sent one
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = int(ctx.get("deadlineMs") or 0)

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self):
        return "LambdaContext(aws_request_id=%r, function_name=%r, function_version=%r, memory_limit_in_mb=%r)" % (
            self.aws_request_id, self.function_name, self.function_version, self.memory_limit_in_mb)


_INSTANCE = "%d-%d" % (os.getpid(), int(time.time()))


def _static_context(function_name, function_version, memory_mb):
    function_name = function_name or os.environ.get("TERN_FUNCTION_NAME", "")
    function_version = str(function_version or os.environ.get("TERN_FUNCTION_VERSION", ""))
    return {
        "function_name": function_name,
        "function_version": function_version,
        # A string, as in Lambda (which reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
        "memory_limit_in_mb": str(memory_mb or os.environ.get("TERN_MEMORY_MB", "")),
        "invoked_function_arn": "arn:tern:function:%s:%s" % (function_name, function_version),
        "log_group_name": os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME") or "/tern/function/%s" % function_name,
        "log_stream_name": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        or "%s/[%s]%s" % (datetime.date.today().strftime("%Y/%m/%d"), function_version, _INSTANCE),
    }


class HandlerNotFound(Exception):
    pass


def _load(name):
    module_name, _, function_name = name.replace("/", ".").rpartition(".")
    if not module_name or not function_name:
        raise HandlerNotFound("Bad handler '%s': expected module.function, e.g. lambda_function.lambda_handler" % name)
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        e.msg = "Unable to import module '%s': %s" % (module_name, e)
        raise
    except SyntaxError as e:
        raise SyntaxError("Syntax error in module '%s': %s" % (module_name, e)) from e
    handler = getattr(module, function_name, None)
    if handler is None:
        raise HandlerNotFound("Handler '%s' missing on module '%s'" % (function_name, module_name))
    if not callable(handler):
        raise HandlerNotFound("Handler '%s' on module '%s' is not callable" % (function_name, module_name))
    return handler


def _error(e):
    """The protocol's error object; the stack starts at the handler's own frame, not this bootstrap's. "stack" is the
    traceback without its last line (the "Type: message" the agent already puts first); "stackTrace" is Lambda's list,
    one string per frame."""
    tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
    lines = traceback.format_exception(type(e), e, tb)
    last = traceback.format_exception_only(type(e), e)
    if lines[-len(last):] == last:
        lines = lines[:-len(last)]
    return {"type": type(e).__name__, "message": str(e), "stack": "".join(lines),
            "stackTrace": traceback.format_list(traceback.extract_tb(tb))}


def main():
    handler_name = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TERN_HANDLER", "")
    proto_in, proto_out = _protocol_streams()

    def send(obj):
        proto_out.write(json.dumps(obj, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n")
        proto_out.flush()

    if handler_name == "--zygote":
        # Started in a spare worker before its function is known, so the interpreter and this module are already
        # loaded when one arrives: the first line names the handler and the environment to take on.
        first = proto_in.readline()
        if not first:
            return 0
        config = json.loads(first)
        os.environ.clear()
        os.environ.update(config.get("env") or {})
        os.chdir(CODE_DIR)
        handler_name = config["handler"]

    if os.environ.get("AWS_EXECUTION_ENV") == "AWS_Lambda_python":  # the agent's; Lambda's names carry the version
        os.environ["AWS_EXECUTION_ENV"] = "AWS_Lambda_python%d.%d" % sys.version_info[:2]
    sys.path[0] = CODE_DIR  # instead of this bootstrap's directory: the handler's modules come first
    try:
        handler = _load(handler_name)
    except Exception as e:  # noqa: BLE001 - any load failure is reported to the agent
        traceback.print_exc()
        send({"ready": False, "error": {"type": type(e).__name__, "message": str(e)}})
        return 1
    send({"ready": True})

    for line in proto_in:
        if not line.strip():
            continue
        request = json.loads(line)
        request_id = request.get("requestId")
        context = LambdaContext(request.get("context") or {})
        if context.trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = context.trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            result = handler(request.get("event"), context)
        except Exception as e:  # noqa: BLE001 - the handler's exception is the call's error
            traceback.print_exc()
            send({"requestId": request_id, "error": _error(e)})
            continue
        try:
            answer = json.dumps({"requestId": request_id, "output": result}, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as e:
            send({"requestId": request_id, "error": {
                "type": "Runtime.MarshalError", "message": "Unable to marshal response: %s" % e, "stack": ""}})
            continue
        proto_out.write(answer.encode("utf-8") + b"\n")
        proto_out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
