#!/usr/bin/env bash
# Installs the system packages Tern needs, only those missing. Runs as root (apt-get), as these machines do.
#   scripts/install-deps.sh          what the daemon needs (bubblewrap)
#   scripts/install-deps.sh --test   plus what the tests need to build the examples (Go, wabt)
set -euo pipefail
need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
[[ -x /usr/bin/python3 ]] || need+=(python3)
command -v node >/dev/null || need+=(nodejs)
command -v curl >/dev/null || need+=(curl)
if [[ "${1:-}" == "--test" ]]; then
  command -v go >/dev/null || need+=(golang-go)
  command -v wat2wasm >/dev/null || need+=(wabt)
  command -v zip >/dev/null || need+=(zip)
fi
if (( ${#need[@]} )); then
  echo "install-deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "install-deps: the .NET SDK (dotnet) is required" >&2; exit 1; }
