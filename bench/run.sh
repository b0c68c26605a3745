#!/usr/bin/env bash
# One command: builds Tern and the benchmark in Release, builds the examples, and writes docs/benchmarks.md.
#   bench/run.sh            full run (about 3 minutes on 2 cores)
#   bench/run.sh --quick    shorter runs, for checking the harness
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" --test
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
"$root/scripts/build-examples.sh" "$root/artifacts/examples" >/dev/null
"$root/tern" --help >/dev/null   # builds the CLI (and the daemon it hosts) in Release
dotnet build "$root/bench/Tern.Bench/Tern.Bench.csproj" -c Release -o "$root/.build/bench" --nologo -v q -clp:ErrorsOnly
exec dotnet "$root/.build/bench/Tern.Bench.dll" --repo "$root" --tern-dll "$root/.build/cli/tern.dll" --out "$root/docs/benchmarks.md" "$@"
