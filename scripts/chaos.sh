#!/usr/bin/env bash
# The chaos harness: `npm run chaos -- --profile smoke|long [--seed N] [--scale F] [--keep]`.
# Installs dependencies, checks PostgreSQL and Redis, builds the apps and the harness, then runs
# chaos/src/main.ts: a topology of its own (fresh database, topic prefix, a Kafka broker on free
# ports with its own data dir — the shared broker is never touched), a steady load of sagas, a
# seeded fault schedule, a drain, and a verdict per invariant. Exit code 1 if an invariant fails,
# 3 if the run was inconclusive (progress below the floor), 2 if the harness itself failed.
# Method, profiles and latest figures: docs/reliability.md (chaos section).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

ensure_node_modules
preflight

say "build (apps and the chaos harness)"
npm run -s build
npx tsc -p chaos/tsconfig.json

say "chaos run (results and logs in chaos/results/)"
# chaos/results/ is git-ignored (chaos/.gitignore), so Prettier's check skips it too.
TS_NODE_BASEURL="$ROOT/dist" exec node -r tsconfig-paths/register dist/chaos/src/main.js "$@"
