import { loadConfig } from '@sagaflow/config';
import {
  bootstrapStore,
  BullmqTimerWakeups,
  DefinitionRegistry,
  jobIdOf,
  StartSaga,
  TimerProcessor,
} from '@sagaflow/runtime';
import { defineSaga } from '@sagaflow/saga-dsl';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { createTestDatabase, eventually, uniqueName } from '../support/infrastructure';
import { HarnessInput, TOPICS, undo, work } from '../support/saga-harness';

const TIMEOUT_MS = 800;
const SWEEP_MS = 500;
const SAGAS = 25;

/** One step that nobody answers: its timeout parks the saga (status failed) when it fires. */
const waits = defineSaga({ name: 'waits', version: 1, input: HarnessInput })
  .step('a', { ...work, compensate: undo, timeout: TIMEOUT_MS, onTimeout: 'park' })
  .build();

/** A Redis database of its own, so flushing it touches nobody else's keys. */
function testRedisUrl(): string {
  const url = new URL(loadConfig().redisUrl);
  url.pathname = '/9';
  return url.toString();
}

/**
 * Timers live in PostgreSQL; BullMQ delayed jobs only wake them up on time. With Redis intact a
 * timer fires promptly; with Redis flushed right after the timers were armed, none is lost and
 * none is later than the sweep period (plus scheduling noise).
 */
describe('timer wake-ups through BullMQ, and a Redis flush', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataSource: DataSource;
  let wakeups: BullmqTimerWakeups;
  let timers: TimerProcessor;
  let start: StartSaga;
  let redis: IORedis;

  beforeAll(async () => {
    db = await createTestDatabase();
    const registry = new DefinitionRegistry([waits]);
    dataSource = await bootstrapStore(
      { ...loadConfig({}), databaseUrl: db.url, dbPoolSize: 5 },
      registry,
      { migrate: true, applicationName: 'timer-wakeups-test' },
    );
    wakeups = new BullmqTimerWakeups({ redisUrl: testRedisUrl(), queueName: uniqueName('timers') });
    timers = new TimerProcessor(dataSource, registry, TOPICS, { pollMs: SWEEP_MS, wakeups });
    wakeups.startWorker((key) => timers.fireKeys([key]));
    timers.start();
    start = new StartSaga(dataSource, registry, TOPICS, wakeups);
    redis = new IORedis(testRedisUrl());
  });

  afterAll(async () => {
    await timers?.stop();
    await wakeups?.obliterate().catch(() => undefined);
    await wakeups?.close();
    redis?.disconnect();
    await dataSource?.destroy();
    await db?.drop();
  });

  /** Starts a batch; resolves with each saga's lateness: when its timeout fired minus when it was due. */
  async function batch(label: string, afterStart?: () => Promise<unknown>): Promise<number[]> {
    const ids = await Promise.all(
      Array.from(
        { length: SAGAS },
        async (_, i) =>
          (
            await start.execute({
              sagaType: 'waits',
              input: { n: i },
              idempotencyKey: `${label}-${i}`,
              actor: 'test',
            })
          ).instance.id,
      ),
    );
    await afterStart?.();
    return eventually(
      `all ${SAGAS} ${label} timeouts to fire`,
      async () => {
        const rows = await dataSource.query(
          `SELECT s.id, extract(epoch FROM (t.recorded_at - s.recorded_at)) * 1000 - $2 AS late_ms
           FROM saga_journal s JOIN saga_journal t ON t.saga_id = s.saga_id AND t.type = 'step.timedOut'
          WHERE s.type = 'saga.started' AND s.saga_id = ANY($1::uuid[])`,
          [ids, TIMEOUT_MS],
        );
        return rows.length === SAGAS
          ? rows.map((r: { late_ms: string }) => Number(r.late_ms))
          : undefined;
      },
      30_000,
      50,
    );
  }

  const stats = (late: number[]) => {
    const sorted = [...late].sort((a, b) => a - b);
    return {
      p50: Math.round(sorted[Math.floor(sorted.length / 2)]!),
      max: Math.round(sorted.at(-1)!),
    };
  };

  it('fires timers on time through BullMQ, never early', async () => {
    const late = await batch('intact');
    const s = stats(late);
    process.stdout.write(
      `timer lateness with Redis intact: p50 ${s.p50} ms, max ${s.max} ms (sweep period ${SWEEP_MS} ms)\n`,
    );
    expect(Math.min(...late)).toBeGreaterThanOrEqual(-5); // never early (journal times are transaction starts)
    expect(s.p50).toBeLessThan(SWEEP_MS / 2); // BullMQ woke them, not the sweep
  });

  it('loses no timer when Redis is flushed, and is late by at most the sweep period', async () => {
    const late = await batch('flushed', () => redis.flushdb());
    const s = stats(late);
    process.stdout.write(
      `timer lateness after FLUSHDB: p50 ${s.p50} ms, max ${s.max} ms (sweep period ${SWEEP_MS} ms); timers lost 0 of ${SAGAS}\n`,
    );
    expect(late).toHaveLength(SAGAS);
    expect(s.max).toBeLessThanOrEqual(SWEEP_MS + 400); // the sweep period plus scheduling noise on a shared machine
    const armed = await dataSource.query(`SELECT count(*)::int AS n FROM saga_timer`);
    expect(armed[0].n).toBe(0);
  });
});

describe('cancelled timers', () => {
  it('forget removes the delayed jobs of cancelled timers, so they never come due', async () => {
    const queueName = uniqueName('forget');
    const wakeups = new BullmqTimerWakeups({ redisUrl: testRedisUrl(), queueName });
    const connection = new IORedis(testRedisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue(queueName, { connection });
    try {
      wakeups.wake([
        { key: 'saga-1:step:forward:1:timeout', delayMs: 60_000 },
        { key: 'saga-1:deadline', delayMs: 60_000 },
      ]);
      await eventually('both jobs to be delayed', async () =>
        (await queue.getDelayedCount()) === 2 ? true : undefined,
      );
      wakeups.forget(['saga-1:step:forward:1:timeout', 'never-armed']);
      await eventually('the cancelled one to be gone', async () =>
        (await queue.getDelayedCount()) === 1 ? true : undefined,
      );
      expect(await queue.getJob(jobIdOf('saga-1:deadline'))).toBeDefined();
    } finally {
      await wakeups.obliterate().catch(() => undefined);
      await wakeups.close();
      await queue.close();
      connection.disconnect();
    }
  });
});
