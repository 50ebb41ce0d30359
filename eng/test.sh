#!/usr/bin/env bash
# Runs every test in Resilience.sln against real services and ends with one line:
#   Tests: N passed, N failed, N skipped
# Without RESILIENCE_PG / RESILIENCE_PGBOUNCER / RESILIENCE_REDIS it starts the local services
# (eng/services.sh up, which installs what is missing) and stops what it started when done.
set -uo pipefail
cd "$(dirname "$0")/.."

started=""
stop_started() { if [ -n "$started" ]; then bash eng/services.sh down; fi; }
trap stop_started EXIT

if [ -z "${RESILIENCE_PG:-}${RESILIENCE_PGBOUNCER:-}${RESILIENCE_REDIS:-}" ]; then
  bash eng/services.sh status >/dev/null 2>&1 || started=1
  bash eng/services.sh up >/dev/null || { echo "eng/services.sh up failed" >&2; exit 1; }
  eval "$(bash eng/services.sh env)"
else
  echo "test: using the servers named by RESILIENCE_* (starting nothing)" >&2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log="$(mktemp /tmp/resilience-test.XXXXXX.log)"

# One test module at a time: some tests restart servers or count server connections.
dotnet test --solution Resilience.sln -c Release --max-parallel-test-modules 1 --no-progress "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Sum the per-run summary that Microsoft.Testing.Platform prints at the end.
count() { grep -E "^\s+$1: [0-9]+" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
passed=$(count succeeded); failed=$(count failed); skipped=$(count skipped)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "test: dotnet test exited with $status before reporting a failed test (build or runner error above)" >&2
fi
rm -f "$log"
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
