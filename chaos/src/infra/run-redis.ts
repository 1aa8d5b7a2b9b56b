import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import IORedis from 'ioredis';
import { eventually } from '../../../test/support/infrastructure';
import { sleep } from '../log';

/**
 * The run's BullMQ keys in the shared Redis: the orchestrators' timer queue is named
 * `<prefix>sagaflow-timers` with BullMQ's default `bull:` key prefix. "Flushing Redis" deletes
 * exactly these keys (SCAN + DEL); never FLUSHALL or FLUSHDB, which would wipe everybody
 * else's keys on the shared server.
 */
export async function deleteRunKeys(redisUrl: string, topicPrefix: string): Promise<number> {
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const pattern = `bull:${escapeGlob(topicPrefix)}sagaflow-timers:*`;
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/** Glob metacharacters in the prefix are matched literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Settings a restarted server must keep: the machine's Redis runs without a config file. */
const KEPT_SETTINGS = [
  'bind',
  'port',
  'save',
  'appendonly',
  'dir',
  'protected-mode',
  'maxmemory',
  'maxmemory-policy',
];

/** What the last restart captured, so the drain can start a server a restart left down. */
let lastSettings: string[] | null = null;

const run = promisify(execFile);

/** Whether the harness can restart this Redis: on loopback, with `redis-server` on the PATH. */
export async function canRestartRedis(redisUrl: string): Promise<string | null> {
  const host = new URL(redisUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host))
    return `Redis at ${host} is not on this machine`;
  try {
    await run('redis-server', ['--version']);
    return null;
  } catch (error) {
    return `redis-server cannot be run here (${error instanceof Error ? error.message : String(error)})`;
  }
}

/**
 * A real Redis restart (`--redis-restart`): the server shut down without saving (every key and
 * every connection gone, new ones refused), down for `ms`, then started again with the settings
 * it had. Only where nobody else uses the server: CI, or a machine of one's own.
 */
export async function restartRedis(redisUrl: string, ms: number): Promise<string> {
  const began = Date.now();
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const settings: string[] = [];
    for (const name of KEPT_SETTINGS) {
      const [, value] = (await redis.config('GET', name)) as [string, string];
      if (value === undefined) continue;
      settings.push(`--${name}`, ...(name === 'bind' ? value.split(/\s+/) : [value]));
    }
    lastSettings = settings;
    // The server closes the connection instead of answering.
    await redis.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
  } finally {
    redis.disconnect();
  }
  try {
    await eventually(
      'Redis to go down',
      async () => ((await answers(redisUrl)) ? undefined : true),
      10_000,
    );
    await sleep(ms);
  } finally {
    await ensureRedisRunning(redisUrl);
  }
  return `server restarted, back after ${Date.now() - began} ms`;
}

/** Starts the server a restart left down, with the settings it had. */
export async function ensureRedisRunning(redisUrl: string): Promise<void> {
  if (await answers(redisUrl)) return;
  if (!lastSettings) throw new Error('Redis is down and no restart captured its settings');
  await run('redis-server', [...lastSettings, '--daemonize', 'yes'], { timeout: 30_000 });
  await eventually(
    'Redis to answer after its start',
    async () => (await answers(redisUrl)) || undefined,
    30_000,
  );
}

async function answers(redisUrl: string): Promise<boolean> {
  const redis = new IORedis(redisUrl, {
    maxRetriesPerRequest: 0,
    lazyConnect: true,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
