#!/usr/bin/env bash
# Runs every test in Resilience.sln against real services and ends with one line:
#   Tests: N passed, N failed, N skipped
# Without RESILIENCE_PG / RESILIENCE_PGBOUNCER / RESILIENCE_REDIS it starts the local services
# (eng/services.sh, which installs what is missing) and stops them afterwards if it started them.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log="$(mktemp /tmp/resilience-test.XXXXXX.log)"

# One test module at a time: some tests restart private servers or count server connections.
bash eng/services.sh run \
  dotnet test --solution Resilience.sln -c Release --max-parallel-test-modules 1 --no-progress "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# The run summary Microsoft.Testing.Platform prints last covers every test module.
count() { grep -E "^\s+$1: [0-9]+" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
passed=$(count succeeded); failed=$(count failed); skipped=$(count skipped)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "test: exited with $status before any test failed (service start, build or runner error above)" >&2
fi
rm -f "$log"
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
