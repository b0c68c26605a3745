import json
import sys


def handler(event):
    if event.get("fail") is True:
        raise RuntimeError("requested failure")
    return {"message": f"Hello, {event.get('name', 'world')}!", "runtime": "python"}


if __name__ == "__main__":
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            result = handler(json.load(f))
    except Exception as e:
        print(f"boom: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(result, separators=(",", ":"), ensure_ascii=False))
