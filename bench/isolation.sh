#!/usr/bin/env bash
# Start and warm-call times per isolation driver (sandbox, gvisor, microvm: boot, snapshot restore, warm call and the
# accelerator used) next to a bare python3 spawn, in one run; writes its section of docs/benchmarks.md. About 5 minutes
# on 2 cores (microVM boots under TCG cost seconds each).
#   bench/isolation.sh            full run
#   bench/isolation.sh --quick    shorter runs, for checking the harness
#   bench/isolation.sh --skip-microvm   leaves out the microvm rows (most of the time) and keeps them from the last run
# Run nothing else heavy meanwhile (flock /tmp/tern-heavy.lock bench/isolation.sh on shared machines).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/artifacts/bench"
"$root/scripts/install-deps.sh"
"$root/tern" --help >/dev/null   # builds the CLI (and the daemon it hosts) in Release
# The microvm rows need the python guest image: built (or confirmed up to date) by the project's own command.
export TERN_BENCH_IMAGES_DIR="$out/images"
[[ " $* " == *" --skip-microvm "* ]] || "$root/tern" images build python --images-dir "$TERN_BENCH_IMAGES_DIR"
dotnet build "$root/bench/Tern.Bench/Tern.Bench.csproj" -c Release -o "$out/harness" --nologo -v q -clp:ErrorsOnly
exec dotnet "$out/harness/Tern.Bench.dll" --isolation --repo "$root" --tern-dll "$root/.build/cli/tern.dll" "$@"
