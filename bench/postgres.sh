#!/usr/bin/env bash
# Durable enqueues/s and warm sync calls on SQLite (one daemon) against Postgres with one and two daemons sharing the
# database, in one run, with CPU per call from /proc; the target pair (SQLite, two daemons on Postgres) runs three times in
# alternating order (the figure is the median ratio of adjacent runs); writes its section of docs/benchmarks.md.
# About 10 minutes on 2 cores.
#   bench/postgres.sh            full run
#   bench/postgres.sh --quick    shorter runs, for checking the harness
# Run nothing else heavy meanwhile (flock /tmp/tern-heavy.lock bench/postgres.sh on shared machines).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/artifacts/bench"
"$root/scripts/install-deps.sh" --test
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
"$root/tern" --help >/dev/null   # builds the CLI (and the daemon it hosts) in Release
dotnet build "$root/bench/Tern.Bench/Tern.Bench.csproj" -c Release -o "$out/harness" --nologo -v q -clp:ErrorsOnly
exec dotnet "$out/harness/Tern.Bench.dll" --postgres --repo "$root" --tern-dll "$root/.build/cli/tern.dll" "$@"
