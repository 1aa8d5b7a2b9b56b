import IORedis from 'ioredis';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { Probe, ProbeResult, timed } from './probe';

const DEFAULT_TIMEOUT_MS = 1500;

/** PostgreSQL answers `SELECT 1` through the app's own pool (so a starved pool shows too). */
export class PostgresProbe implements Probe {
  constructor(
    private readonly dataSource: DataSource,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  check(): Promise<ProbeResult> {
    return timed(() => this.dataSource.query('SELECT 1'), this.timeoutMs);
  }
}

/**
 * Redis answers `PING` on a connection of the probe's own that never queues a command while
 * disconnected (a down Redis is reported at once) and keeps reconnecting in the background.
 */
export class RedisProbe implements Probe {
  private readonly redis: IORedis;

  constructor(
    url: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    this.redis = new IORedis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: Math.min(1000, timeoutMs),
      retryStrategy: (times) => Math.min(times * 200, 1000),
      connectionName: 'sagaflow-readiness',
    });
    this.redis.on('error', () => undefined); // reported by check(), not as an unhandled event
  }

  check(): Promise<ProbeResult> {
    return timed(async () => {
      if (this.redis.status === 'wait') await this.redis.connect();
      await this.redis.ping();
    }, this.timeoutMs);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export interface KafkaProbeOptions {
  readonly timeoutMs?: number;
  /** How long an answer is reused (default 1000 ms), so probes do not hammer the broker. */
  readonly cacheMs?: number;
}

/**
 * Kafka answers `describeCluster` through a client of the probe's own that never retries and
 * logs nothing: a down broker is reported at once with the connection error, and a broker that
 * is back is seen at the next probe, not after a backoff (the app's client keeps its retries).
 */
export class KafkaProbe implements Probe {
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly kafka: Kafka;
  private admin: Admin | null = null;
  private adminConnected: Promise<void> | null = null;
  private cached: { at: number; result: ProbeResult } | null = null;
  private inFlight: Promise<ProbeResult> | null = null;

  constructor(brokers: readonly string[], options: KafkaProbeOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.cacheMs = options.cacheMs ?? 1000;
    this.kafka = new Kafka({
      clientId: 'sagaflow-readiness',
      brokers: [...brokers],
      connectionTimeout: Math.min(1000, this.timeoutMs),
      requestTimeout: this.timeoutMs,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
  }

  /** Cached for `cacheMs`; concurrent probes share one request. */
  check(): Promise<ProbeResult> {
    if (this.cached && Date.now() - this.cached.at < this.cacheMs)
      return Promise.resolve(this.cached.result);
    this.inFlight ??= timed(() => this.describeCluster(), this.timeoutMs).then((result) => {
      this.cached = { at: Date.now(), result };
      this.inFlight = null;
      if (result.status === 'down') this.resetAdmin();
      return result;
    });
    return this.inFlight;
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    this.adminConnected = null;
    await admin?.disconnect().catch(() => undefined);
  }

  private async describeCluster(): Promise<void> {
    if (!this.admin || !this.adminConnected) {
      // retries: 0 — the probe answers now; the next probe is the retry.
      this.admin = this.kafka.admin();
      this.adminConnected = this.admin.connect();
    }
    const admin = this.admin;
    await this.adminConnected;
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('no broker in the cluster metadata');
  }

  /** After a failure the admin starts from scratch: no half-open connection is trusted. */
  private resetAdmin(): void {
    void this.close();
  }
}
