#!/usr/bin/env node
'use strict';
// Waits until a Kafka cluster answers a kafkajs admin describeCluster().
// Used by scripts/kafka.sh (start | wait | status). An open TCP port is not
// enough: the broker accepts connections before KRaft has elected its
// controller, and clients then fail with "no leader" / "not controller".
//
//   node scripts/kafka/wait-ready.js [--timeout SECONDS] [--since EPOCH_MS] [--pid PID] [--quiet]
//
// Brokers: KAFKA_BROKERS (comma separated) or 127.0.0.1:${KAFKA_PORT:-19092}.
// Timeout: --timeout, else KAFKA_WAIT_SECONDS, else 90.
// --since: start of the elapsed time that is printed (default: now).
// --pid:   the broker's pid; give up at once if that process has died.
// Exit 0 when ready, 1 on timeout or when the broker died, 2 when kafkajs is missing.

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

let kafkajs;
try {
  kafkajs = require('kafkajs');
} catch {
  console.error('kafka: kafkajs is not installed; run `npm ci` in the repository root first');
  process.exit(2);
}
const { Kafka, logLevel } = kafkajs;

function arg(name) {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

const brokers = (process.env.KAFKA_BROKERS || `127.0.0.1:${process.env.KAFKA_PORT || 19092}`)
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);
const timeoutMs = Number(arg('--timeout') || process.env.KAFKA_WAIT_SECONDS || 90) * 1000;
const since = Number(arg('--since') || Date.now());
const pid = arg('--pid') ? Number(arg('--pid')) : undefined;
const quiet = process.argv.includes('--quiet');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(p) {
  try {
    process.kill(p, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

async function probe() {
  // One short attempt per loop; the loop, not kafkajs, owns the retry budget.
  const kafka = new Kafka({
    clientId: 'sagaflow-wait-ready',
    brokers,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.controller === null || cluster.controller === undefined || cluster.controller < 0) {
      throw new Error('cluster has no active controller yet');
    }
    return cluster;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function main() {
  const started = Date.now();
  let lastError = 'no attempt made';
  for (;;) {
    try {
      const cluster = await probe();
      const secs = ((Date.now() - since) / 1000).toFixed(1);
      if (!quiet) {
        console.log(
          `kafka: ready on ${brokers.join(',')} in ${secs}s ` +
            `(cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s))`,
        );
      }
      return 0;
    } catch (err) {
      lastError = (err && err.message) || String(err);
    }
    if (pid !== undefined && !alive(pid)) {
      console.error(`kafka: the broker process ${pid} exited before it became ready`);
      return 1;
    }
    if (Date.now() - started >= timeoutMs) {
      console.error(
        `kafka: not ready on ${brokers.join(',')} after ${timeoutMs / 1000}s ` +
          `(last error: ${lastError})`,
      );
      return 1;
    }
    await sleep(500);
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error('kafka: wait-ready crashed:', err);
    process.exit(1);
  },
);
