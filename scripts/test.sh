#!/usr/bin/env bash
# Every test, on a fresh machine: `npm test`. Installs dependencies, checks PostgreSQL and
# Redis, starts a local Kafka broker (unless KAFKA_BROKERS is set), then runs the static
# checks, the pure unit tier and the integration/end-to-end tier against the real services.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
started=$(date +%s)

ensure_node_modules
preflight
trap stop_kafka_if_started EXIT
ensure_kafka

say "static checks: types, lint, format, docker compose config"
npm run -s typecheck
npm run -s lint
npm run -s format:check
bash scripts/check-compose.sh

say "build"
npm run -s build

say "unit tier (pure core, DSL, type tests)"
npx jest --selectProjects unit

say "integration and end-to-end tier (PostgreSQL, Kafka, processes)"
# --forceExit: a leaked handle must fail loudly in review, never hang CI until its time limit.
npx jest --selectProjects integration --runInBand --forceExit

say "all tests passed in $(($(date +%s) - started)) s"
