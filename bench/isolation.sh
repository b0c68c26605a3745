#!/usr/bin/env bash
# Start and warm-call times per isolation driver (sandbox, gvisor) next to a bare python3 spawn, in one run; writes
# its section of docs/benchmarks.md. About 3 minutes on 2 cores.
#   bench/isolation.sh            full run
#   bench/isolation.sh --quick    shorter runs, for checking the harness
# Run nothing else heavy meanwhile (flock /tmp/tern-heavy.lock bench/isolation.sh on shared machines).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/artifacts/bench"
"$root/scripts/install-deps.sh"
"$root/tern" --help >/dev/null   # builds the CLI (and the daemon it hosts) in Release
dotnet build "$root/bench/Tern.Bench/Tern.Bench.csproj" -c Release -o "$out/harness" --nologo -v q -clp:ErrorsOnly
exec dotnet "$out/harness/Tern.Bench.dll" --isolation --repo "$root" --tern-dll "$root/.build/cli/tern.dll" "$@"
