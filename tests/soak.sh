#!/usr/bin/env bash
# The soak: many runs on the distributed setup (real RabbitMQ and Azurite, the workers as processes)
# while faults are injected; prints runs completed, faults injected, messages redelivered and artifacts
# verified, and exits non-zero unless every run completed intact. Not part of tests/run.sh.
#
#   bash tests/soak.sh [--runs N] [--parallel M] [--kill-every SECONDS] [--storage-faults] [--broker-restarts] [--timeout-minutes T]
#
# Defaults: 6 runs, 2 at a time, a random worker SIGKILLed and replaced every 45 s. --broker-restarts
# restarts the shared local broker: do not use it while anything else uses that broker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/local.sh up
eval "$(bash infra/local.sh env)"
dotnet build Morlaif.Pipeline.sln -c Release -v q -nologo
exec dotnet run --no-build -c Release --project tests/Morlaif.Soak -- "$@"
