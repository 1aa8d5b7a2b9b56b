import IORedis from 'ioredis';

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
