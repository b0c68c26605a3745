#!/usr/bin/env bash
# The soak run: one daemon with default settings under a mixed load at 80% of its measured peak, sampled every 5 s.
#   bench/soak.sh                 10 minutes (the figure in docs/soak.md)
#   bench/soak.sh --minutes 2     a shorter check of the harness
# Writes docs/soak.csv (plot-friendly) and docs/soak.md (summary against the targets); exits 1 if a target is missed.
# Run nothing else heavy meanwhile.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/artifacts/bench"
"$root/scripts/install-deps.sh" --test
"$root/tern" --help >/dev/null   # builds the CLI (and the daemon it hosts) in Release
dotnet build "$root/bench/Tern.Bench/Tern.Bench.csproj" -c Release -o "$out/harness" --nologo -v q -clp:ErrorsOnly
(cd "$root/bench/echo-go" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$out/echo-go/bootstrap" .)
exec dotnet "$out/harness/Tern.Bench.dll" --soak --repo "$root" --tern-dll "$root/.build/cli/tern.dll" --go-echo "$out/echo-go/bootstrap" "$@"
