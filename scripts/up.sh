#!/usr/bin/env bash
# One command from a fresh clone: install what is missing, build, start the daemon in the background,
# and register the demo function "hello". Re-running it is safe: a running daemon is reused.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
listen="${TERN_LISTEN:-127.0.0.1:8080}"
data_dir="${TERN_DATA_DIR:-$HOME/.local/share/tern}"
export TERN_SERVER="http://$listen"
log_dir="$root/.tern"
mkdir -p "$log_dir"

"$root/scripts/install-deps.sh"
"$root/tern" --help >/dev/null   # builds once

if curl -fsS "$TERN_SERVER/healthz/live" >/dev/null 2>&1; then
  echo "up: a daemon already answers at $TERN_SERVER"
else
  nohup "$root/tern" daemon --listen "$listen" --data-dir "$data_dir" >"$log_dir/daemon.log" 2>&1 &
  echo $! >"$log_dir/daemon.pid"
  for _ in $(seq 1 100); do
    curl -fsS "$TERN_SERVER/healthz/ready" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fsS "$TERN_SERVER/healthz/ready" >/dev/null || { echo "up: the daemon did not become ready; see $log_dir/daemon.log" >&2; exit 1; }
  echo "up: daemon started at $TERN_SERVER (pid $(cat "$log_dir/daemon.pid"), log $log_dir/daemon.log, data $data_dir)"
fi

# Make `tern` a command (root only; otherwise use ./tern).
if [[ -w /usr/local/bin ]]; then ln -sf "$root/tern" /usr/local/bin/tern; fi

if "$root/tern" get hello >/dev/null 2>&1; then
  "$root/tern" update hello --runtime python --code "$root/examples/python/main.py" >/dev/null
else
  "$root/tern" create hello --runtime python --code "$root/examples/python/main.py" >/dev/null
fi
echo "up: demo function 'hello' registered. Try:"
echo "    tern invoke hello -d '{\"name\":\"x\"}'"
"$root/tern" invoke hello -d '{"name":"x"}'
echo "Stop the daemon with: kill \$(cat $log_dir/daemon.pid)"
