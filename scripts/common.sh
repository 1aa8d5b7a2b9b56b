# Shared by scripts/test.sh and scripts/demo.sh (sourced, not run).
# Installs what the project needs from the lockfile, and checks the services it expects.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export KAFKAJS_NO_PARTITIONER_WARNING=1

say() { echo "==> $*"; }

# npm ci when node_modules is missing or older than the lockfile (a fresh clone, or a pull).
ensure_node_modules() {
  if [[ ! -d "$ROOT/node_modules" || "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]]; then
    say "installing dependencies (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# PostgreSQL and Redis must already run; say exactly which is missing and how to fix it.
preflight() {
  say "checking PostgreSQL and Redis"
  node "$ROOT/scripts/preflight.js"
}

# Starts the local Kafka broker unless KAFKA_BROKERS names a cluster; stops it on exit.
ensure_kafka() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    bash "$ROOT/scripts/kafka.sh" wait
    return
  fi
  say "starting Kafka"
  if ! bash "$ROOT/scripts/kafka.sh" status >/dev/null 2>&1; then
    KAFKA_STARTED_HERE=1
  fi
  bash "$ROOT/scripts/kafka.sh" start
  export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT:-19092}"
}

# Stops the broker only if this script started it.
# A broker that was already running, or one the caller named in KAFKA_BROKERS, is never stopped.
stop_kafka_if_started() {
  if [[ -n "${KAFKA_STARTED_HERE:-}" ]]; then
    # KAFKA_BROKERS was exported for the tests; unset it, or kafka.sh treats the broker as external.
    env -u KAFKA_BROKERS bash "$ROOT/scripts/kafka.sh" stop || true
  fi
}
