#!/usr/bin/env bash
# The demo, on a fresh machine: `npm run demo`. Installs dependencies, checks PostgreSQL and
# Redis, starts Kafka, applies migrations, starts the orchestrator, the sample participants and
# the admin API, then runs one order saga that completes and one that is compensated, and
# prints their final states and timelines. Everything it started is stopped at the end.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

LOGS="$ROOT/.sagaflow/demo"
mkdir -p "$LOGS"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sagaflow_demo}"
export ADMIN_API_PORT="${ADMIN_API_PORT:-3000}" ORCHESTRATOR_PORT="${ORCHESTRATOR_PORT:-3001}"
export SAGAFLOW_TOPIC_PREFIX="${SAGAFLOW_TOPIC_PREFIX:-demo.}" TS_NODE_BASEURL="$ROOT/dist"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_kafka_if_started
}
trap cleanup EXIT

# start_app NAME READY-REGEX: runs a compiled app in the background and waits for its ready line.
start_app() {
  local name=$1 ready=$2 log="$LOGS/$1.log"
  node -r tsconfig-paths/register "dist/apps/$name/src/main.js" >"$log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 600); do
    grep -qE "$ready" "$log" && { say "$name is up (log: ${log#"$ROOT"/})"; return; }
    kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$log"; echo "demo: $name exited during start-up" >&2; exit 1; }
    sleep 0.1
  done
  cat "$log"; echo "demo: $name did not start within 60 s" >&2; exit 1
}

ensure_node_modules
preflight
ensure_kafka
say "build"
npm run -s build
say "migrations"
node -r tsconfig-paths/register dist/scripts/migrate.js
start_app orchestrator 'orchestrator listening'
start_app sample-participants 'sample participants ready'
start_app admin-api 'admin API listening'
# The admin API authenticates every call: the demo mints an operator key for itself (an admin
# does the same with `npm run admin-key -- create --name <who> --role operator`).
SAGAFLOW_API_KEY=$(TS_NODE_BASEURL=dist node -r tsconfig-paths/register \
  dist/apps/admin-api/src/cli/admin-keys.js create --name "demo-$(date +%s)" --role operator)
export SAGAFLOW_API_KEY
say "running two order sagas through the admin API on port $ADMIN_API_PORT"
node dist/scripts/demo-client.js
