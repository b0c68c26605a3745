#!/usr/bin/env bash
# Runs every test (unit, API, sandbox isolation, each runtime end to end) and ends with one line:
# "N passed, N failed, N skipped". Installs what the tests need first.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
results="$root/artifacts/test-results"
"$root/scripts/install-deps.sh" --test || exit 1
rm -rf "$results"
mkdir -p "$results"

cd "$root"
if ! dotnet build Tern.sln --nologo -v q -clp:ErrorsOnly; then
  echo "test: build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
dotnet test Tern.sln --no-build --nologo -v q --results-directory "$results"
status=$?

# dotnet test prints one summary per assembly; CI wants one total.
passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [[ -e "$trx" ]] || continue
  files=$((files + 1))
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -1)"
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
# Name each failure with its message, so a CI log that shows only its tail still says what broke.
if (( failed > 0 )) && command -v python3 >/dev/null; then
  python3 "$root/scripts/trx-failures.py" "$results"/*.trx
fi
if (( files == 0 )); then failed=$((failed + 1)); echo "test: no test results were written"; fi
if (( status != 0 && failed == 0 )); then failed=1; echo "test: dotnet test exited with $status"; fi
echo "$passed passed, $failed failed, $skipped skipped"
(( failed == 0 ))
