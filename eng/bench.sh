#!/usr/bin/env bash
# Runs every BenchmarkDotNet suite (Release, short job) and gates each ratio to its in-run baseline against the
# committed benchmarks/baseline.json.
#   bash eng/bench.sh                          run all suites and compare; exit 1 when a ratio got worse beyond the threshold
#   bash eng/bench.sh --update                 run all suites and rewrite benchmarks/baseline.json from this run
#   SUITES="Caching Uploads" bash eng/bench.sh  only these suites (the others are not judged)
#   THRESHOLD=0.25                             how much worse (relative) a ratio may get; default 0.25
#   RETRIES=1                                  suites with a flagged row run again, this many times, and only the last
#                                              run's verdict counts (a short job on two cores flags noise); 0 = no re-run
# Suites that need servers get them the same way the tests do (RESILIENCE_* or eng/services.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

update=""
[ "${1:-}" = "--update" ] && update="--update"
results=artifacts/benchmarks
suites="${SUITES:-$(for p in benchmarks/*/*.Benchmarks.csproj; do basename "$(dirname "$p")"; done)}"
retries="${RETRIES:-1}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

failed=""
run_suite() {
  echo "bench: $1" >&2
  rm -rf "${results:?}/$1"
  # One suite at a time machine-wide (the lock is shared with anyone else benchmarking on this machine).
  # A suite whose benchmark failed exits non-zero; the others still run, and the gate still reports.
  flock /tmp/resilience-bench.lock bash eng/services.sh run dotnet run -c Release --project "benchmarks/$1" -- \
    --filter '*' --job short --artifacts "$results/$1" || failed="$failed $1"
}

# --expect: a committed benchmark of a suite asked for here that left no usable row fails the gate.
verdict="$(mktemp /tmp/resilience-gate.XXXXXX)"
trap 'rm -f "$verdict"' EXIT
gate() {
  local status=0
  dotnet run -c Release --project benchmarks/Gate -- --results "$results" --baseline benchmarks/baseline.json \
    --threshold "${THRESHOLD:-0.25}" --expect "$suites" --command "bash eng/bench.sh" $update | tee "$verdict" || status=$?
  return "$status"
}

rm -rf "$results"
for suite in $suites; do run_suite "$suite"; done
status=0
gate || status=$?

while [ "$status" -eq 1 ] && [ -z "$update" ] && [ "$retries" -gt 0 ]; do
  retries=$((retries - 1))
  flagged="$(sed -nE 's/^FAIL Resilience\.([A-Za-z]+)\.Benchmarks\..*/\1/p' "$verdict" | sort -u)"
  [ -z "$flagged" ] && break
  echo "bench: running again the suites with flagged rows:" $flagged >&2
  for suite in $flagged; do failed="${failed// $suite/}"; run_suite "$suite"; done
  status=0
  gate || status=$?
done

if [ -n "$failed" ]; then
  echo "bench: benchmarks failed in:$failed" >&2
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
