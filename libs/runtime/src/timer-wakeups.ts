import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';

/** A timer that was armed in a committed transaction, to be woken up on time. */
export interface ArmedTimer {
  readonly key: string;
  readonly delayMs: number;
}

/** Where the shell announces timers after commit; a no-op is fine (the sweeper finds them). */
export interface TimerWakeupSink {
  wake(timers: readonly ArmedTimer[]): void;
  /**
   * Timers cancelled in a committed transaction: their wake-ups can go. Optional tidiness — a
   * wake-up for a timer that is gone finds nothing to fire — but every one left behind costs a
   * Redis job and a database round trip when it comes due.
   */
  forget?(keys: readonly string[]): void;
}

export const NO_WAKEUPS: TimerWakeupSink = { wake: () => undefined };

export interface BullmqWakeupOptions {
  readonly redisUrl: string;
  /** Queue name; one per deployment (the topic prefix keeps test runs apart). */
  readonly queueName: string;
  readonly onError?: (error: unknown) => void;
}

/**
 * BullMQ delayed jobs as prompt wake-ups for the timers PostgreSQL holds. The job id is the
 * timer key (BullMQ ids may not contain ':'), so arming twice is one job. Losing Redis loses
 * only promptness: the sweeper fires overdue timers from PostgreSQL.
 */
export class BullmqTimerWakeups implements TimerWakeupSink {
  private readonly queue: Queue;
  private readonly queueConnection: IORedis;
  private worker: Worker | null = null;
  private workerConnection: IORedis | null = null;

  constructor(private readonly options: BullmqWakeupOptions) {
    // Fail fast while Redis is down instead of queueing commands: the caller never waits on Redis.
    this.queueConnection = new IORedis(options.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    this.queueConnection.on('error', (e) => options.onError?.(e));
    this.queue = new Queue(options.queueName, { connection: this.queueConnection });
    this.queue.on('error', (e) => options.onError?.(e));
  }

  /** Fire and forget: called after commit, never delays or fails the transaction's caller. */
  wake(timers: readonly ArmedTimer[]): void {
    if (timers.length === 0) return;
    const jobs = timers.map((t) => ({
      name: 'fire',
      data: { key: t.key },
      opts: { jobId: jobIdOf(t.key), delay: t.delayMs, removeOnComplete: true, removeOnFail: 1000 },
    }));
    this.queue.addBulk(jobs).catch((e: unknown) => this.options.onError?.(e));
  }

  /** Fire and forget, after commit: removes the delayed jobs of cancelled timers. */
  forget(keys: readonly string[]): void {
    if (keys.length === 0) return;
    Promise.all(keys.map((key) => this.queue.remove(jobIdOf(key)))).catch((e: unknown) =>
      this.options.onError?.(e),
    );
  }

  /** Runs `fire(key)` for each job when it comes due. */
  startWorker(fire: (key: string) => Promise<unknown>, concurrency = 16): void {
    this.workerConnection = new IORedis(this.options.redisUrl, { maxRetriesPerRequest: null });
    this.workerConnection.on('error', (e) => this.options.onError?.(e));
    this.worker = new Worker(
      this.options.queueName,
      (job) => fire((job.data as { key: string }).key),
      {
        connection: this.workerConnection,
        concurrency,
      },
    );
    this.worker.on('error', (e) => this.options.onError?.(e));
  }

  /** BullMQ does not close connections it was given: they are closed here. */
  async close(): Promise<void> {
    await this.worker?.close().catch(() => undefined);
    await this.queue.close().catch(() => undefined);
    this.workerConnection?.disconnect();
    this.queueConnection.disconnect();
  }

  /** Removes the queue and its jobs (tests). */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
  }
}

export function jobIdOf(key: string): string {
  return key.replaceAll(':', '|');
}
