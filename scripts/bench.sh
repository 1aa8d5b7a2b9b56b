#!/usr/bin/env bash
# The benchmark: `npm run bench -- [--sagas N --in-flight W --warmup M --growth --profile …]`.
# Installs dependencies, checks PostgreSQL and Redis, starts Kafka (unless KAFKA_BROKERS names
# a cluster), builds, then runs bench/src/main.ts: Sagaflow's peak and half-rate phases on a
# fresh database, the same scenario on DBOS Transact, and prints the figures and the targets.
# Method and latest figures: docs/benchmarks.md.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

ensure_node_modules
preflight
KAFKA_LOCAL=$([[ -z "${KAFKA_BROKERS:-}" ]] && echo 1 || true)
# Only a broker this script started is stopped: with KAFKA_BROKERS given (even the default
# address of a broker someone else runs), common.sh's stop_kafka_if_started would stop it.
if [[ -n "$KAFKA_LOCAL" ]]; then trap stop_kafka_if_started EXIT; fi
ensure_kafka
# The local broker's CPU is reported too (an external cluster's cannot be).
PID_FILE="${KAFKA_DATA_DIR:-${SAGAFLOW_CACHE:-$HOME/.cache/sagaflow}/kafka-run}/kafka.pid"
if [[ -n "$KAFKA_LOCAL" && -f "$PID_FILE" ]]; then export BENCH_KAFKA_PID="$(cat "$PID_FILE")"; fi
# Redis takes the BullMQ timer wake-ups; its CPU is reported when it runs here.
BENCH_REDIS_PID="$(pgrep -o -x redis-server || true)"
export BENCH_REDIS_PID

say "build"
npm run -s build
npx tsc -p bench/tsconfig.json

say "bench (logs in .sagaflow/bench/)"
TS_NODE_BASEURL="$ROOT/dist" node -r tsconfig-paths/register dist/bench/src/main.js "$@"
