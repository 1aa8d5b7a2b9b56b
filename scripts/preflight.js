// Checks that PostgreSQL and Redis answer, before anything slow starts. Plain Node (no build
// needed). Exits 1 with one line per unreachable service saying how to fix it.
'use strict';
const { Client } = require('pg');
const Redis = require('ioredis');

const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/sagaflow';
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

function redact(url) {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function checkPostgres() {
  const server = new URL(databaseUrl);
  server.pathname = '/postgres';
  const client = new Client({ connectionString: server.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (
      `PostgreSQL is unreachable at ${redact(databaseUrl)} (${error.message}). ` +
      'Start it (here: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set DATABASE_URL.'
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkRedis() {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 5000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let cause = null; // ioredis reports the socket error as an event, then a vaguer rejection
  redis.on('error', (error) => (cause = cause || error));
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return (
      `Redis is unreachable at ${redact(redisUrl)} (${(cause || error).message}). ` +
      "Start it (here: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no) or set REDIS_URL."
    );
  } finally {
    redis.disconnect();
  }
}

Promise.all([checkPostgres(), checkRedis()]).then((problems) => {
  const found = problems.filter(Boolean);
  for (const problem of found) console.error(`preflight: ${problem}`);
  if (found.length > 0) process.exit(1);
  console.log('preflight: PostgreSQL and Redis answer');
});
