#!/usr/bin/env bash
# One command: builds Tern and the benchmark in Release, builds the examples and the baselines, and writes
# docs/benchmarks.md.
#   bench/run.sh            full run (about 8 minutes on 2 cores)
#   bench/run.sh --quick    shorter runs, for checking the harness
#   bench/run.sh --wasm-only  only the wasm section (Wasmtime against the Node WASI path), spliced into the file
# Run nothing else heavy meanwhile: the figures are CPU per call on a shared 2-core machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/artifacts/bench"
"$root/scripts/install-deps.sh" --test
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
"$root/scripts/build-examples.sh" "$root/artifacts/examples" >/dev/null
wasm_only=0
[[ " $* " == *" --wasm-only "* ]] && wasm_only=1
(( wasm_only )) || "$root/tern" --help >/dev/null   # builds the CLI (and the daemon it hosts) in Release
dotnet build "$root/bench/Tern.Bench/Tern.Bench.csproj" -c Release -o "$out/harness" --nologo -v q -clp:ErrorsOnly
(( wasm_only )) || dotnet build "$root/bench/BareEcho/BareEcho.csproj" -c Release -o "$out/bare-echo" --nologo -v q -clp:ErrorsOnly
(cd "$root/bench/echo-go" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$out/echo-go/bootstrap" .)
exec dotnet "$out/harness/Tern.Bench.dll" --repo "$root" --tern-dll "$root/.build/cli/tern.dll" \
  --bare-echo-dll "$out/bare-echo/BareEcho.dll" --go-echo "$out/echo-go/bootstrap" --out "$root/docs/benchmarks.md" "$@"
