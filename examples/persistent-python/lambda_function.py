"""An AWS Lambda-style Python handler, unmodified: Tern runs it in persistent mode with
handler "lambda_function.lambda_handler". The module is imported once per worker; COLD_START shows it."""
import json
import time

COLD_START = time.time()
calls = 0


def lambda_handler(event, context):
    global calls
    calls += 1
    if event.get("fail"):
        raise ValueError("boom: requested failure")
    print("greeting", event.get("name"))  # goes to stderr: stdout belongs to the protocol
    name = event.get("name", "world")
    return {
        "statusCode": 200,
        "body": json.dumps({"message": f"Hello, {name}!"}),
        "message": f"Hello, {name}!",
        "runtime": "python",
        "requestId": context.aws_request_id,
        "memoryLimitInMB": context.memory_limit_in_mb,
        "remainingMs": context.get_remaining_time_in_millis(),
        "calls": calls,
    }
