#!/usr/bin/env bash
# Local single-node Kafka (KRaft) for development, tests and CI.
#
#   bash scripts/kafka.sh start|stop|status|wait
#
# There is no Docker engine on our machines, so the broker runs straight from the
# Apache Kafka jars on Maven Central (fetched once per machine into a cache outside
# the repository). With KAFKA_BROKERS set, an external cluster is used instead and
# nothing is started or stopped. See docs/infrastructure.md.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_WAIT_SECONDS="${KAFKA_WAIT_SECONDS:-90}"
CACHE="${SAGAFLOW_CACHE:-$HOME/.cache/sagaflow}"
DIST_DIR="$CACHE/kafka-$KAFKA_VERSION"
LIB_DIR="$DIST_DIR/lib"
MARKER="$DIST_DIR/.complete"
RUN_DIR="${KAFKA_DATA_DIR:-$CACHE/kafka-run}"
PID_FILE="$RUN_DIR/kafka.pid"
LOG_DIR="$RUN_DIR/logs"
OUT_FILE="$RUN_DIR/kafka.out" # JVM stdout/stderr: crashes before log4j2 is up

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$HERE/kafka/pom.xml"
LOG4J_CONFIG="$HERE/kafka/log4j2.properties"
WAIT_READY="$HERE/kafka/wait-ready.js"

# KAFKAJS_NO_PARTITIONER_WARNING: wait-ready.js uses kafkajs; keep its output clean.
export KAFKAJS_NO_PARTITIONER_WARNING=1 KAFKA_PORT KAFKA_WAIT_SECONDS

log() { echo "kafka: $*"; }
die() {
  echo "kafka: ERROR: $*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
secs_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# ---------------------------------------------------------------- prerequisites
need_node() {
  command -v node >/dev/null || die "node is not installed (Node 20 is the project runtime)"
}

need_java_and_maven() {
  local missing=()
  command -v java >/dev/null || missing+=(java)
  command -v mvn >/dev/null || missing+=(mvn)
  if ((${#missing[@]})); then
    die "${missing[*]} not found. Install with: apt-get install -y openjdk-17-jre-headless maven"
  fi
  # Kafka 4 brokers need Java 17+. `java -version` prints e.g. 'openjdk version "17.0.15"'.
  local major
  major="$(java -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print v[1]; exit }')"
  if [[ -n "$major" && "$major" -lt 17 ]]; then
    die "Kafka $KAFKA_VERSION needs Java 17 or newer, found Java $major. Install with: apt-get install -y openjdk-17-jre-headless"
  fi
}

# ---------------------------------------------------------------- jars
# The marker holds the pom's checksum: editing the pom (e.g. the log4j version)
# invalidates the cached lib folder instead of silently running old jars.
pom_sum() { sha256sum "$POM" | cut -d' ' -f1; }

ensure_jars() {
  if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$(pom_sum)" ]]; then
    return 0
  fi
  log "downloading Apache Kafka $KAFKA_VERSION jars from Maven Central into $LIB_DIR (once per machine)"
  local t0 tmp
  t0="$(now_ms)"
  mkdir -p "$DIST_DIR"
  # Copy into a temporary folder and rename, so an interrupted download never
  # leaves a half-filled lib folder that looks usable.
  tmp="$(mktemp -d "$DIST_DIR/lib.tmp.XXXXXX")"
  # Output goes to a file: even with -q, Maven 3.8 prints stray colour codes.
  if ! mvn -q -B -f "$POM" dependency:copy-dependencies -Dkafka.version="$KAFKA_VERSION" \
    -DincludeScope=runtime -DoutputDirectory="$tmp" </dev/null >"$DIST_DIR/mvn.log" 2>&1; then
    rm -rf "$tmp"
    sed 's/\x1b\[[0-9;]*m//g' "$DIST_DIR/mvn.log" | tail -n 30 >&2
    die "mvn could not fetch the Kafka jars (is Maven Central reachable? log: $DIST_DIR/mvn.log)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || {
    rm -rf "$tmp"
    die "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
  }
  rm -rf "$LIB_DIR"
  mv "$tmp" "$LIB_DIR"
  pom_sum >"$MARKER"
  log "downloaded $(find "$LIB_DIR" -name '*.jar' | wc -l) jars in $(secs_since "$t0")s"
}

# ---------------------------------------------------------------- process helpers
# A pid counts as ours only if that process is a Kafka JVM: after a reboot the
# number in a stale pid file may belong to anything.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

port_in_use() { (: </dev/tcp/127.0.0.1/"$1") 2>/dev/null; }

wait_ready() { # wait_ready [extra wait-ready.js args...]
  need_node
  node "$WAIT_READY" "$@"
}

show_log_tail() {
  echo "kafka: broker log: $LOG_DIR/server.log (JVM output: $OUT_FILE); last 30 lines:" >&2
  tail -n 30 "$LOG_DIR/server.log" >&2 2>/dev/null || true
  if [[ -s "$OUT_FILE" ]]; then
    echo "kafka: last lines of $OUT_FILE:" >&2
    tail -n 15 "$OUT_FILE" >&2
  fi
}

# Serialise start/stop: two test runners calling `start` at once must not
# launch two brokers on the same data dir.
take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock -w 180 9 || die "another kafka.sh holds $RUN_DIR/.lock"
}

# ---------------------------------------------------------------- config
write_server_properties() {
  mkdir -p "$RUN_DIR/data" "$LOG_DIR"
  # Written on every start so port changes apply; the data dir is kept.
  cat >"$RUN_DIR/server.properties" <<EOF
# Generated by scripts/kafka.sh on every start; edits here are lost.
# One combined broker+controller node (KRaft), loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$RUN_DIR/data

# A single node: every internal topic must accept replication factor 1,
# otherwise consumer groups and transactions wait forever for replicas.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1

# Tests: no 3 s wait before the first rebalance, and topics only via the admin
# client so a typo in a topic name fails instead of creating a new topic.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.partitions=4

# Small footprint for a dev/test broker.
log.segment.bytes=16777216
log.retention.hours=24
log.retention.check.interval.ms=60000
num.network.threads=2
num.io.threads=4
EOF
}

format_storage() {
  # The cluster id is generated once and kept: the data dir is bound to it.
  if [[ ! -s "$RUN_DIR/cluster-id" ]]; then
    java -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOG_DIR" -cp "$LIB_DIR/*" \
      kafka.tools.StorageTool random-uuid >"$RUN_DIR/cluster-id.tmp"
    mv "$RUN_DIR/cluster-id.tmp" "$RUN_DIR/cluster-id"
  fi
  # Already formatted: skip the extra JVM launch (about 1 s of every warm start).
  [[ -f "$RUN_DIR/data/meta.properties" ]] && return 0
  # --ignore-formatted: harmless if an earlier run was interrupted after formatting.
  java -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOG_DIR" -cp "$LIB_DIR/*" \
    kafka.tools.StorageTool format -t "$(cat "$RUN_DIR/cluster-id")" \
    -c "$RUN_DIR/server.properties" --ignore-formatted >"$RUN_DIR/format.out" 2>&1 ||
    {
      cat "$RUN_DIR/format.out" >&2
      die "formatting $RUN_DIR/data failed (delete $RUN_DIR to start from scratch)"
    }
}

# ---------------------------------------------------------------- commands
cmd_start() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    log "KAFKA_BROKERS is set: using the external cluster $KAFKA_BROKERS, starting nothing"
    wait_ready
    return
  fi
  need_java_and_maven
  need_node
  take_lock

  local pid
  if pid="$(running_pid)"; then
    if wait_ready --timeout 10 --quiet; then
      log "already running (pid $pid) and healthy on 127.0.0.1:$KAFKA_PORT"
      return 0
    fi
    # Started by a concurrent run and still booting, or hung: wait the full budget.
    log "running (pid $pid) but not answering yet; waiting"
    wait_ready --pid "$pid" || {
      show_log_tail
      exit 1
    }
    return 0
  fi
  if [[ -f "$PID_FILE" ]]; then
    log "removing stale pid file $PID_FILE"
    rm -f "$PID_FILE"
  fi
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_in_use "$port"; then
      die "port $port on 127.0.0.1 is already in use by another process (not the broker in $RUN_DIR). Stop it, or pick other ports: KAFKA_PORT=... KAFKA_CONTROLLER_PORT=... (or point KAFKA_BROKERS at a running cluster)"
    fi
  done

  ensure_jars
  local t0
  t0="$(now_ms)"
  write_server_properties
  format_storage

  # setsid: the broker must not get the terminal's Ctrl-C meant for the caller;
  # nohup + </dev/null: it must outlive this script, also without a tty (CI).
  # setsid does not fork here (we are not a group leader), so $! is the JVM's pid.
  # 9>&-: the JVM must not inherit the lock, or it would hold it until it exits.
  setsid nohup java -Xms256m -Xmx768m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$LIB_DIR/*" kafka.Kafka "$RUN_DIR/server.properties" \
    >"$OUT_FILE" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  log "started broker pid $pid (Kafka $KAFKA_VERSION, data in $RUN_DIR)"

  if ! wait_ready --since "$t0" --pid "$pid"; then
    show_log_tail
    if kill -0 "$pid" 2>/dev/null; then
      # Left running on purpose: a slow machine may still get there, and the next
      # `start` waits for it again instead of racing a second JVM.
      echo "kafka: the broker (pid $pid) is still running; stop it with: bash scripts/kafka.sh stop" >&2
    else
      rm -f "$PID_FILE"
    fi
    exit 1
  fi
}

cmd_stop() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    log "KAFKA_BROKERS is set: external cluster, nothing to stop"
    return 0
  fi
  take_lock
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  local t0 i
  t0="$(now_ms)"
  # SIGTERM runs Kafka's controlled shutdown (flushes logs, writes a clean-shutdown
  # marker so the next start skips log recovery).
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "no controlled shutdown after 30s; sending SIGKILL to $pid"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
  log "stopped (pid $pid) in $(secs_since "$t0")s"
}

cmd_status() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    wait_ready --timeout 5 --quiet && log "external cluster $KAFKA_BROKERS answers" && return 0
    log "external cluster $KAFKA_BROKERS does not answer"
    return 1
  fi
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    return 1
  fi
  if wait_ready --timeout 5 --quiet; then
    log "running (pid $pid) and answering on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  log "process $pid is running but does not answer on 127.0.0.1:$KAFKA_PORT (log: $LOG_DIR/server.log)"
  return 1
}

cmd_wait() {
  local pid_args=()
  local pid
  if [[ -z "${KAFKA_BROKERS:-}" ]] && pid="$(running_pid)"; then pid_args=(--pid "$pid"); fi
  if ! wait_ready "${pid_args[@]}"; then
    [[ -n "${KAFKA_BROKERS:-}" ]] || show_log_tail
    exit 1
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  wait) cmd_wait ;;
  *)
    echo "usage: $0 start|stop|status|wait" >&2
    exit 2
    ;;
esac
