#!/usr/bin/env bash
# The spike drill: 2,400 concurrent writers through all five packages, then through the incident's naive stack.
# Starts the local services itself unless RESILIENCE_PG, RESILIENCE_PGBOUNCER and RESILIENCE_REDIS name yours.
#   bash eng/drill.sh --help     every option
# Exit code: 0 when every invariant held in resilient mode, 1 when one broke, 2 when the drill could not run.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec dotnet run -c Release --project benchmarks/Drill -- "$@"
