import { OnApplicationShutdown } from '@nestjs/common';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';

/** One dependency's state, as `GET /health/ready` reports it. */
export interface DependencyCheck {
  readonly status: 'up' | 'down';
  /** How long the check took (for a cached Kafka answer: the check that produced it). */
  readonly latencyMs: number;
  /** Why it is down: the driver's message, or `timed out after … ms`. */
  readonly error?: string;
}

export interface ReadinessReport {
  readonly status: 'ready' | 'not-ready';
  readonly checks: { readonly postgresql: DependencyCheck; readonly kafka: DependencyCheck };
}

export interface ReadinessOptions {
  /** Bound on each check (default 1500 ms): a dependency that does not answer in time is down. */
  readonly timeoutMs?: number;
  /** How long a Kafka answer is reused (default 1000 ms), so probes do not hammer the broker. */
  readonly kafkaCacheMs?: number;
}

/**
 * Readiness of this orchestrator: PostgreSQL answers `SELECT 1` through the app's own pool, and
 * Kafka answers `describeCluster` through a client of its own that never retries and logs
 * nothing (a down broker is reported at once with the connection error, and a broker that is
 * back is seen at the next probe, not after a backoff; the app's client keeps its retries).
 */
export class ReadinessService implements OnApplicationShutdown {
  private readonly timeoutMs: number;
  private readonly kafkaCacheMs: number;
  private readonly kafka: Kafka;
  private admin: Admin | null = null;
  private adminConnected: Promise<void> | null = null;
  private kafkaCached: { at: number; check: DependencyCheck } | null = null;
  private kafkaInFlight: Promise<DependencyCheck> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    brokers: readonly string[],
    options: ReadinessOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1500;
    this.kafkaCacheMs = options.kafkaCacheMs ?? 1000;
    this.kafka = new Kafka({
      clientId: 'sagaflow-orchestrator-readiness',
      brokers: [...brokers],
      connectionTimeout: Math.min(1000, this.timeoutMs),
      requestTimeout: this.timeoutMs,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
  }

  async check(): Promise<ReadinessReport> {
    const [postgresql, kafka] = await Promise.all([this.checkPostgres(), this.checkKafka()]);
    const ready = postgresql.status === 'up' && kafka.status === 'up';
    return { status: ready ? 'ready' : 'not-ready', checks: { postgresql, kafka } };
  }

  async onApplicationShutdown(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    this.adminConnected = null;
    await admin?.disconnect().catch(() => undefined);
  }

  private checkPostgres(): Promise<DependencyCheck> {
    return timed(() => this.dataSource.query('SELECT 1'), this.timeoutMs);
  }

  /** Cached for `kafkaCacheMs`; concurrent probes share one request. */
  private async checkKafka(): Promise<DependencyCheck> {
    if (this.kafkaCached && Date.now() - this.kafkaCached.at < this.kafkaCacheMs)
      return this.kafkaCached.check;
    if (!this.kafkaInFlight) {
      this.kafkaInFlight = timed(() => this.describeCluster(), this.timeoutMs).then((check) => {
        this.kafkaCached = { at: Date.now(), check };
        this.kafkaInFlight = null;
        if (check.status === 'down') this.resetAdmin();
        return check;
      });
    }
    return this.kafkaInFlight;
  }

  private async describeCluster(): Promise<void> {
    if (!this.admin || !this.adminConnected) {
      // The client has retries: 0 — the probe answers now; the next probe is the retry.
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
    const admin = this.admin;
    this.admin = null;
    this.adminConnected = null;
    void admin?.disconnect().catch(() => undefined);
  }
}

/** Runs `work` with a time bound; never rejects. */
async function timed(work: () => Promise<unknown>, timeoutMs: number): Promise<DependencyCheck> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  const attempt = work();
  attempt.catch(() => undefined); // a late failure after the timeout is not unhandled
  try {
    await Promise.race([attempt, timeout]);
    return { status: 'up', latencyMs: Date.now() - started };
  } catch (error) {
    return {
      status: 'down',
      latencyMs: Date.now() - started,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}
