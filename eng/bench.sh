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
for suite in $suites; do
  echo "bench: $suite" >&2
  bash eng/services.sh run dotnet run -c Release --project "benchmarks/$suite" -- \
    --filter '*' --job short --artifacts "$results/$suite"
done

dotnet run -c Release --project benchmarks/Gate -- --results "$results" --baseline benchmarks/baseline.json \
  --threshold "${THRESHOLD:-0.25}" --command "bash eng/bench.sh" $update
