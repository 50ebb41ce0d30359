#!/usr/bin/env bash
# Runs every BenchmarkDotNet suite (Release, short job) and gates each ratio to its in-run baseline against the
# committed benchmarks/baseline.json.
#   bash eng/bench.sh                          run all suites and compare; exit 1 when a ratio got worse beyond the threshold
#   bash eng/bench.sh --update                 run all suites and rewrite benchmarks/baseline.json from this run
#   SUITES="Caching Uploads" bash eng/bench.sh  only these suites (the others are not judged)
#   THRESHOLD=0.25                             how much worse (relative) a ratio may get; default 0.25
# Suites that need servers get them the same way the tests do (RESILIENCE_* or eng/services.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

update=""
[ "${1:-}" = "--update" ] && update="--update"
results=artifacts/benchmarks
suites="${SUITES:-$(for p in benchmarks/*/*.Benchmarks.csproj; do basename "$(dirname "$p")"; done)}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rm -rf "$results"
failed=""
for suite in $suites; do
  echo "bench: $suite" >&2
  # One suite at a time machine-wide (the lock is shared with anyone else benchmarking on this machine).
  # A suite whose benchmark failed exits non-zero; the others still run, and the gate still reports.
  flock /tmp/resilience-bench.lock bash eng/services.sh run dotnet run -c Release --project "benchmarks/$suite" -- \
    --filter '*' --job short --artifacts "$results/$suite" || failed="$failed $suite"
done

# --expect: a committed benchmark of a suite asked for here that left no usable row fails the gate.
status=0
dotnet run -c Release --project benchmarks/Gate -- --results "$results" --baseline benchmarks/baseline.json \
  --threshold "${THRESHOLD:-0.25}" --expect "$suites" --command "bash eng/bench.sh" $update || status=$?
if [ -n "$failed" ]; then
  echo "bench: benchmarks failed in:$failed" >&2
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
